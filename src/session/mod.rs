//! TODO: replaced by the session branch.
pub async fn connect(
    _url: Option<&str>,
) -> anyhow::Result<std::sync::Arc<dyn crate::domain::ports::SessionStore>> {
    todo!()
}
