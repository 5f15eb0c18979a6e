fn main() -> std::process::ExitCode {
    ferropress::cli::run()
}
