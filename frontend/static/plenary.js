// Plenary: a little help where scripts are available; every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Add the viewer's own time next to a meeting's local time when their zone differs.
  function addViewerTimes() {
    var viewerZone;
    try { viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!viewerZone) { return; }
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    document.querySelectorAll("time[datetime][data-zone]").forEach(function (el) {
      var zone = el.getAttribute("data-zone");
      if (!zone || zone === viewerZone) { return; }
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) { return; }
      var theirs, yours, yourDay, theirDay;
      try {
        theirs = at.toLocaleTimeString("en-GB", Object.assign({ timeZone: zone }, options));
        yours = at.toLocaleTimeString("en-GB", options);
        theirDay = at.toLocaleDateString("en-GB", { timeZone: zone, day: "numeric" });
        yourDay = at.toLocaleDateString("en-GB", { day: "numeric" });
      } catch (e) { return; }
      if (theirs === yours && theirDay === yourDay) { return; }
      var extra = document.createElement("span");
      extra.className = "yours";
      var label = yours + (theirDay !== yourDay ? " (" + at.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" }) + ")" : "");
      extra.textContent = " · " + label + " your time";
      el.setAttribute("title", "Your time (" + viewerZone + "): " + label);
      el.appendChild(extra);
    });
  }

  // ← and → move between months on the calendar (not while typing in a field).
  function monthKeys() {
    var links = document.querySelectorAll("a[data-key]");
    if (!links.length) { return; }
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      var target = event.target;
      if (target && target.closest && target.closest("input, select, textarea, [contenteditable]")) { return; }
      links.forEach(function (link) {
        if (link.getAttribute("data-key") === event.key) {
          event.preventDefault();
          window.location.href = link.href;
        }
      });
    });
  }

  // Filters apply as soon as they change.
  function autosubmit() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // Choosing a country or host offers its capital's zone.
  function zoneFromCountry() {
    document.querySelectorAll("select[data-zone-target]").forEach(function (select) {
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        var zone = option && option.getAttribute("data-zone");
        var field = document.getElementById(select.getAttribute("data-zone-target"));
        if (zone && field) { field.value = zone; }
      });
    });
  }

  // Ask before destructive actions.
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  // Copy buttons.
  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        if (!field) { return; }
        field.select();
        var done = function () { button.textContent = "Copied"; };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
        } else { document.execCommand("copy"); done(); }
      });
    });
  }

  // Parts of a page that follow the server while work is under way (the delivery of
  // invitations): fetched again, a little less often each time, until it says it is done.
  function livePolling() {
    function follow(box, round) {
      if (box.getAttribute("data-busy") !== "true") { return; }
      window.setTimeout(function () {
        fetch(box.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
          .then(function (html) {
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var fresh = holder.querySelector("[data-poll]");
            if (!fresh) { return; }
            box.innerHTML = fresh.innerHTML;
            box.setAttribute("data-busy", fresh.getAttribute("data-busy"));
            follow(box, round + 1);
          }, function () { follow(box, round + 1); });
      }, Math.min(1000 + round * 250, 5000));
    }
    document.querySelectorAll("[data-poll]").forEach(function (box) { follow(box, 0); });
  }

  // Seating plan: zoom with the buttons, the wheel or two fingers, move by dragging (the frame
  // scrolls, so one finger moves it natively). Zooming widens the picture, which stays sharp.
  function seatingZoom() {
    document.querySelectorAll("[data-seating-frame]").forEach(function (frame) {
      var img = frame.querySelector("img");
      var link = frame.querySelector("a");
      if (!img) { return; }
      var zoom = 1, MAX = 8;
      function setZoom(next, atX, atY) {
        next = Math.min(MAX, Math.max(1, next));
        var rect = frame.getBoundingClientRect();
        var x = atX === undefined ? rect.width / 2 : atX - rect.left;
        var y = atY === undefined ? rect.height / 2 : atY - rect.top;
        var px = (frame.scrollLeft + x) / zoom, py = (frame.scrollTop + y) / zoom;
        zoom = next;
        img.style.width = (zoom * 100) + "%";
        frame.scrollLeft = px * zoom - x;
        frame.scrollTop = py * zoom - y;
      }
      var view = frame.closest(".seating-view") || frame.parentNode;
      view.querySelectorAll("[data-seating-zoom]").forEach(function (button) {
        button.addEventListener("click", function () {
          var how = button.getAttribute("data-seating-zoom");
          setZoom(how === "in" ? zoom * 1.5 : how === "out" ? zoom / 1.5 : 1);
        });
      });
      frame.addEventListener("wheel", function (event) {
        event.preventDefault();
        setZoom(zoom * (event.deltaY < 0 ? 1.2 : 1 / 1.2), event.clientX, event.clientY);
      }, { passive: false });
      var pointers = {}, pinch = 0, dragged = false, last = null;
      function distance() {
        var p = Object.keys(pointers).map(function (id) { return pointers[id]; });
        return p.length === 2 ? Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) : 0;
      }
      frame.addEventListener("pointerdown", function (event) {
        pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
        pinch = distance();
        dragged = false;
        last = { x: event.clientX, y: event.clientY };
      });
      frame.addEventListener("pointermove", function (event) {
        if (!pointers[event.pointerId]) { return; }
        pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
        if (pinch) {
          var now = distance();
          if (now) { setZoom(zoom * now / pinch, event.clientX, event.clientY); pinch = now; }
          return;
        }
        if (event.pointerType === "mouse" && last) {
          var dx = event.clientX - last.x, dy = event.clientY - last.y;
          if (Math.abs(dx) + Math.abs(dy) > 3) { dragged = true; frame.classList.add("dragging"); }
          frame.scrollLeft -= dx;
          frame.scrollTop -= dy;
          last = { x: event.clientX, y: event.clientY };
        }
      });
      function lift(event) {
        delete pointers[event.pointerId];
        pinch = distance();
        last = null;
        frame.classList.remove("dragging");
      }
      frame.addEventListener("pointerup", lift);
      frame.addEventListener("pointercancel", lift);
      img.addEventListener("dragstart", function (event) { event.preventDefault(); });
      // The picture links to the full SVG for those without scripts; here a click after a drag
      // only moved it.
      if (link) { link.addEventListener("click", function (event) { if (dragged) { event.preventDefault(); } }); }
    });
  }

  function start() {
    addViewerTimes();
    monthKeys();
    autosubmit();
    zoneFromCountry();
    confirmations();
    copyButtons();
    livePolling();
    seatingZoom();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

/* After a form (registration, organiser settings) the page opens at that form; its outcome (a
   message marked data-focus or data-form-message, or the summary of a form sent back with errors)
   takes the focus, so it is in view and a screen reader reads it at once. Without this script
   the #anchor alone brings the user back to the form. */
(function () {
  "use strict";
  function focusOutcome() {
    var outcome = document.querySelector("[data-focus], [data-form-message], section[id] > [role=alert][tabindex='-1']");
    if (outcome) { outcome.focus(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", focusOutcome); } else { focusOutcome(); }
})();
