use std::process::ExitCode;

fn main() -> ExitCode {
    agora::cli::run()
}
