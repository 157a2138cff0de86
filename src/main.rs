use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    agora::cli::run().await
}
