#!/usr/bin/env python3
"""A real SMTP server for Plenary's tests and benchmarks.

Listens on 127.0.0.1:PORT and stores every message it accepts in the Maildir MAILDIR (each
message gets an `X-Sink-Seq: N` header first, so readers can tell the order of arrival).
Recipients matching --reject (a regular expression) are refused with 550, a permanent failure.
--delay MS makes each message take that long to accept (to test a sender killed mid-batch).
Prints "ready" on stdout once it accepts connections; stops on SIGTERM or SIGINT.

    smtp_sink.py PORT MAILDIR [--reject REGEX] [--delay MS]
"""

import argparse
import asyncio
import itertools
import mailbox
import re
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir, reject, delay_ms=0):
        self.delay = delay_ms / 1000
        self.box = mailbox.Maildir(maildir, create=True)
        self.reject = re.compile(reject) if reject else None
        self.seq = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject.search(address):
            return f"550 5.1.1 <{address}>: mailbox unavailable (rejected by the test sink)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            seq = next(self.seq)
            # Maildir.add writes into tmp/ and renames into new/: readers never see half a message.
            self.box.add(b"X-Sink-Seq: %d\r\n" % seq + envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("maildir")
    parser.add_argument("--reject", help="refuse recipients matching this regular expression with 550")
    parser.add_argument("--delay", type=int, default=0, help="milliseconds to wait before accepting each message")
    args = parser.parse_args()
    controller = Controller(
        Sink(args.maildir, args.reject, args.delay), hostname="127.0.0.1", port=args.port, data_size_limit=0
    )
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
