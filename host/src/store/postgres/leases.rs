//! Leases in PostgreSQL (`openhost_leases (name, holder, expires_at)`), shared by every host on the database.
//! Each operation is one statement; the database's clock alone decides whether a lease has lapsed, so the hosts'
//! clocks need not agree. Taking a lease empties this host's read cache ([`ReadCache::forget_all`]): the work a
//! lease guards must read what the lease's last holder wrote, whose notification may not have arrived yet.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Pool;

use super::{execute, read_cache::ReadCache, run_with_client};
use crate::{
    lease::LeaseBackend,
    store::{StoreFuture, ttl_millis},
};

pub(super) struct PostgresLeases {
    pub(super) pool: Pool,
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) cache: Arc<ReadCache>,
}

impl PostgresLeases {
    /// Runs one statement over `(name, holder, ttl in ms)` and reports whether it changed a row.
    fn one_row(&self, sql: &'static str, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool> {
        let (name, holder, ttl) = (Arc::<str>::from(name), Arc::<str>::from(holder), ttl_millis(ttl));
        run_with_client(&self.pool, &self.runtime, move |client| async move {
            Ok(execute(&client, sql, &[&&*name, &&*holder, &ttl]).await? == 1)
        })
    }
}

impl LeaseBackend for PostgresLeases {
    fn try_take(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool> {
        let taken = self.one_row(
            "INSERT INTO openhost_leases AS lease (name, holder, expires_at)
             VALUES ($1, $2, now() + $3::BIGINT * INTERVAL '1 millisecond')
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
             WHERE lease.expires_at <= now()",
            name,
            holder,
            ttl,
        );
        let cache = Arc::clone(&self.cache);
        Box::pin(async move {
            let taken = taken.await?;
            if taken {
                cache.forget_all();
            }
            Ok(taken)
        })
    }

    fn renew(&self, name: &str, holder: &str, ttl: Duration) -> StoreFuture<bool> {
        self.one_row(
            "UPDATE openhost_leases SET expires_at = now() + $3::BIGINT * INTERVAL '1 millisecond'
             WHERE name = $1 AND holder = $2",
            name,
            holder,
            ttl,
        )
    }

    fn release(&self, name: &str, holder: &str) -> StoreFuture<()> {
        let (name, holder) = (Arc::<str>::from(name), Arc::<str>::from(holder));
        run_with_client(&self.pool, &self.runtime, move |client| async move {
            execute(
                &client,
                "DELETE FROM openhost_leases WHERE name = $1 AND holder = $2",
                &[&&*name, &&*holder],
            )
            .await?;
            Ok(())
        })
    }
}
