pub fn serve_stdio() -> Result<(), Box<dyn std::error::Error + Sync + Send>> {
    Ok(())
}
