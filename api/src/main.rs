//! The `plenary` binary; everything lives in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    plenary::cli::run().await
}
