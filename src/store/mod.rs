//! TODO: replaced by the store branch.
pub struct SqlStore;
pub async fn connect(_url: &str) -> anyhow::Result<SqlStore> {
    todo!()
}
pub async fn migrate(_url: &str) -> anyhow::Result<()> {
    todo!()
}
#[async_trait::async_trait]
impl crate::domain::ports::Store for SqlStore {
    async fn upsert_user(
        &self,
        _: &crate::domain::ports::UserRecord,
    ) -> anyhow::Result<crate::domain::ports::UserRecord> {
        todo!()
    }
    async fn get_user(
        &self,
        _: crate::domain::UserRef,
    ) -> anyhow::Result<Option<crate::domain::ports::UserRecord>> {
        todo!()
    }
    async fn add_follow(
        &self,
        _: crate::domain::UserRef,
        _: crate::domain::WalletAddress,
        _: i64,
    ) -> anyhow::Result<bool> {
        todo!()
    }
    async fn remove_follow(
        &self,
        _: crate::domain::UserRef,
        _: crate::domain::WalletAddress,
    ) -> anyhow::Result<bool> {
        todo!()
    }
    async fn follows_of(
        &self,
        _: crate::domain::UserRef,
    ) -> anyhow::Result<Vec<crate::domain::WalletAddress>> {
        todo!()
    }
    async fn all_follows(
        &self,
    ) -> anyhow::Result<Vec<(crate::domain::UserRef, crate::domain::WalletAddress)>> {
        todo!()
    }
    async fn record_fill(
        &self,
        _: &crate::domain::Fill,
        _: &crate::domain::Position,
    ) -> anyhow::Result<bool> {
        todo!()
    }
    async fn open_positions(
        &self,
        _: crate::domain::UserRef,
    ) -> anyhow::Result<Vec<crate::domain::Position>> {
        todo!()
    }
    async fn all_open_positions(&self) -> anyhow::Result<Vec<crate::domain::Position>> {
        todo!()
    }
    async fn fills_of(
        &self,
        _: crate::domain::UserRef,
        _: u32,
    ) -> anyhow::Result<Vec<crate::domain::Fill>> {
        todo!()
    }
    async fn enqueue(
        &self,
        _: crate::domain::ChatRef,
        _: crate::domain::UserRef,
        _: &crate::domain::ports::OutboxPayload,
        _: i64,
    ) -> anyhow::Result<i64> {
        todo!()
    }
    async fn pending(&self, _: u32) -> anyhow::Result<Vec<crate::domain::ports::OutboxMessage>> {
        todo!()
    }
    async fn mark_sent(&self, _: i64, _: i64) -> anyhow::Result<()> {
        todo!()
    }
    async fn mark_failed(&self, _: i64, _: &str, _: i32) -> anyhow::Result<()> {
        todo!()
    }
}
