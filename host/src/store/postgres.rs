//! The PostgreSQL store: every namespace in one table, `openhost_kv (namespace, key, value)`, through a pool of
//! async connections (tokio-postgres with deadpool-postgres: the plain driver with a small pool is all a
//! key-value table needs; sqlx's compile-time checked queries and its macros would add more to the build than
//! the five statements here are worth). Several hosts share one database: that is how they share sessions,
//! tokens and settings (docs/operating.md, "Several instances").
//!
//! Migrations are numbered and run at start inside one transaction holding an advisory lock, so hosts starting
//! together apply each exactly once. Each statement commits on its own, with PostgreSQL's default synchronous
//! commit: a write is durable when its future completes, so [`Namespace::flush`] has nothing left to do.
//! Operations run as tasks on the host's runtime, so their futures can be polled from anywhere (a plugin's side
//! of the ABI included).
//!
//! Reads of keys that have not changed are served from memory ([`read_cache`]): a trigger notifies every change,
//! by any host, and each host's [`listener`] drops the changed key (`PostgresStore::listen_for_changes`).

use std::{str::FromStr, sync::Arc, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::{NoTls, Row, types::ToSql};

mod leases;
mod listener;
mod read_cache;

use tokio::sync::broadcast;

use self::read_cache::{ReadCache, Ticket};
use super::{Entries, KeyChange, Namespace, Store, StoreError, StoreFuture, ttl_millis};
use crate::lease::LeaseBackend;

/// The schema, in order. Append only: a host applies the ones its database lacks.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE openhost_kv (
            namespace TEXT NOT NULL,
            key BYTEA NOT NULL,
            value BYTEA NOT NULL,
            PRIMARY KEY (namespace, key)
        )",
    ),
    (
        2,
        "ALTER TABLE openhost_kv ADD COLUMN expires_at TIMESTAMPTZ;
        CREATE INDEX openhost_kv_expiring ON openhost_kv (expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE openhost_leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        )",
    ),
    (
        3,
        // Every change of a row, by any host, is heard by every host (`listener.rs`). A payload holds at most
        // 8000 bytes: a key too long to name in hex names its whole namespace.
        "CREATE FUNCTION openhost_kv_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            changed openhost_kv;
        BEGIN
            IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
            PERFORM pg_notify('openhost_kv', changed.namespace || ' ' ||
                CASE WHEN octet_length(changed.key) <= 3000 THEN encode(changed.key, 'hex') ELSE '*' END);
            RETURN NULL;
        END $$;
        CREATE TRIGGER openhost_kv_changed AFTER INSERT OR UPDATE OR DELETE ON openhost_kv
            FOR EACH ROW EXECUTE FUNCTION openhost_kv_notify()",
    ),
];

/// The condition a row must meet to exist for the operations: not past its expiry. Spelled out in each statement
/// (PostgreSQL plans a literal condition; the database's clock decides for every host alike).
macro_rules! live {
    () => {
        "(expires_at IS NULL OR expires_at > now())"
    };
}

/// How long a request waits for a pooled connection, or for a new one to be made.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// How many heard changes a slow follower may fall behind by (it then looks for itself).
const CHANGES_HEARD: usize = 1024;

/// Serialises migrations across hosts: `pg_advisory_xact_lock` takes a 64-bit key.
const MIGRATION_LOCK: i64 = 0x6f70_656e_686f_7374; // "openhost"

/// A PostgreSQL database holding every namespace.
pub struct PostgresStore {
    pool: Pool,
    runtime: tokio::runtime::Handle,
    /// Where the change listener connects (its own connection, outside the pool).
    config: tokio_postgres::Config,
    cache: Arc<ReadCache>,
    changes: broadcast::Sender<KeyChange>,
}

fn unavailable(error: impl Into<crate::store::Cause>) -> StoreError {
    StoreError::Unavailable(error.into())
}

fn failed(error: tokio_postgres::Error) -> StoreError {
    // A closed connection or a refused one is the database being away; anything else is a real error.
    if error.is_closed() || error.as_db_error().is_none() {
        unavailable(error)
    } else {
        StoreError::Backend(error.into())
    }
}

impl PostgresStore {
    /// Connects (`url` is a libpq URL; it is never printed, it may hold a password), checks the connection and
    /// applies missing migrations.
    pub async fn connect(
        url: &str,
        pool_size: usize,
        runtime: tokio::runtime::Handle,
    ) -> Result<PostgresStore, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("database_url is not a PostgreSQL URL: {e}").into()))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Bounded waits: a database that stops answering makes requests fail with `store_unavailable` within
        // seconds instead of hanging them.
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(e.into()))?;
        let store = PostgresStore {
            pool,
            runtime,
            config,
            cache: Arc::default(),
            changes: broadcast::channel(CHANGES_HEARD).0,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Starts hearing every host's changes, for as long as the runtime runs: from then on reads of unchanged
    /// keys are served from memory, and [`Store::changes`] reports them. A serving host calls it once; a
    /// one-off command (`openhost store migrate`) does not.
    pub fn listen_for_changes(&self) {
        let mut config = self.config.clone();
        config.application_name(format!("openhost change listener {}", std::process::id()));
        self.runtime
            .spawn(listener::listen(config, Arc::clone(&self.cache), self.changes.clone()));
    }

    /// Whether the database holds no entry at all (`openhost store migrate` copies only into an empty one).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let client = self.pool.get().await.map_err(unavailable)?;
        let row = client
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM openhost_kv)", &[])
            .await
            .map_err(failed)?;
        Ok(row.get(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(unavailable)?;
        let transaction = client.transaction().await.map_err(failed)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failed)?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS openhost_migrations (
                    version INTEGER PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )",
            )
            .await
            .map_err(failed)?;
        let applied: i32 = transaction
            .query_one("SELECT COALESCE(MAX(version), 0) FROM openhost_migrations", &[])
            .await
            .map_err(failed)?
            .get(0);
        for (version, statement) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
            transaction.batch_execute(statement).await.map_err(failed)?;
            transaction
                .execute("INSERT INTO openhost_migrations (version) VALUES ($1)", &[version])
                .await
                .map_err(failed)?;
            tracing::info!(version, "applied a store migration");
        }
        if let Some((newest, _)) = MIGRATIONS.last()
            && applied > *newest
        {
            return Err(StoreError::Backend(
                format!(
                    "the database is at schema version {applied}, newer than this openhost knows ({newest}): \
                 upgrade openhost"
                )
                .into(),
            ));
        }
        transaction.commit().await.map_err(failed)
    }
}

impl Store for PostgresStore {
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>, StoreError> {
        Ok(Arc::new(PostgresNamespace {
            pool: self.pool.clone(),
            runtime: self.runtime.clone(),
            name: Arc::from(name),
            cache: Arc::clone(&self.cache),
        }))
    }

    fn changes(&self) -> Option<broadcast::Receiver<KeyChange>> {
        Some(self.changes.subscribe())
    }

    /// Every write committed when it returned.
    fn flush_all(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn sweep_expired(&self) -> StoreFuture<u64> {
        run_with_client(&self.pool, &self.runtime, |client| async move {
            execute(&client, "DELETE FROM openhost_kv WHERE expires_at <= now()", &[]).await
        })
    }

    fn lease_backend(&self) -> Arc<dyn LeaseBackend> {
        Arc::new(leases::PostgresLeases {
            pool: self.pool.clone(),
            runtime: self.runtime.clone(),
            cache: Arc::clone(&self.cache),
        })
    }
}

struct PostgresNamespace {
    pool: Pool,
    runtime: tokio::runtime::Handle,
    name: Arc<str>,
    cache: Arc<ReadCache>,
}

/// The smallest byte string greater than every string starting with `prefix`, if there is one.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Runs `operation` with a pooled connection, as a task of the host's runtime.
fn run_with_client<T, F, Fut>(pool: &Pool, runtime: &tokio::runtime::Handle, operation: F) -> StoreFuture<T>
where
    T: Send + 'static,
    F: FnOnce(Object) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let pool = pool.clone();
    let task = runtime.spawn(async move {
        let client = pool.get().await.map_err(unavailable)?;
        operation(client).await
    });
    Box::pin(async move {
        task.await
            .map_err(|e| StoreError::Backend(format!("the store task failed: {e}").into()))?
    })
}

impl PostgresNamespace {
    /// Runs `operation` with a pooled connection and this namespace's name.
    fn run<T, F, Fut>(&self, operation: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Object, Arc<str>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let name = Arc::clone(&self.name);
        run_with_client(&self.pool, &self.runtime, move |client| operation(client, name))
    }

    /// Runs a write of `key`; once it is done (or failed: it may have committed), reads of the key go to the
    /// database again and no read in flight keeps what it found.
    fn write<T, F, Fut>(&self, key: Vec<u8>, operation: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Object, Arc<str>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let cache = Arc::clone(&self.cache);
        self.run(move |client, name| async move {
            let result = operation(client, Arc::clone(&name)).await;
            cache.changed(&name, &key);
            result
        })
    }
}

/// Reads `key` from the database, keeping the answer in `cache` when `ticket` allows.
async fn read_through(
    client: Object,
    name: Arc<str>,
    key: Vec<u8>,
    cache: Arc<ReadCache>,
    ticket: Option<Ticket>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let rows = query(
        &client,
        concat!(
            "SELECT value, (EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::BIGINT
             FROM openhost_kv WHERE namespace = $1 AND key = $2 AND ",
            live!()
        ),
        &[&&*name, &key],
    )
    .await?;
    let found: Option<(Vec<u8>, Option<i64>)> = rows.first().map(|row| (row.get(0), row.get(1)));
    if let Some(ticket) = ticket {
        let value = found.as_ref().map(|(value, _)| value.as_slice());
        let expires_in = found
            .as_ref()
            .and_then(|(_, millis)| *millis)
            .map(|millis| Duration::from_millis(u64::try_from(millis).unwrap_or(0)));
        cache.fill(ticket, &name, &key, value, expires_in);
    }
    Ok(found.map(|(value, _)| value))
}

/// Runs `sql` (prepared once per pooled connection, so a call costs one round trip) and returns how many rows
/// it changed.
async fn execute(client: &Object, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(failed)?;
    client.execute(&statement, params).await.map_err(failed)
}

/// Runs the query `sql` (prepared once per pooled connection) and returns its rows.
async fn query(client: &Object, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(failed)?;
    client.query(&statement, params).await.map_err(failed)
}

impl Namespace for PostgresNamespace {
    fn get(&self, key: &[u8]) -> StoreFuture<Option<Vec<u8>>> {
        if let Some(cached) = self.cache.lookup(&self.name, key) {
            return super::done(Ok(cached));
        }
        let (key, cache) = (key.to_vec(), Arc::clone(&self.cache));
        let ticket = cache.ticket();
        self.run(move |client, name| read_through(client, name, key, cache, ticket))
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreFuture<()> {
        let (key, value) = (key.to_vec(), value.to_vec());
        self.write(key.clone(), move |client, name| async move {
            execute(
                &client,
                "INSERT INTO openhost_kv (namespace, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = NULL",
                &[&&*name, &key, &value],
            )
            .await?;
            Ok(())
        })
    }

    fn put_expiring(&self, key: &[u8], value: &[u8], ttl: Duration) -> StoreFuture<()> {
        let (key, value, ttl) = (key.to_vec(), value.to_vec(), ttl_millis(ttl));
        self.write(key.clone(), move |client, name| async move {
            execute(
                &client,
                "INSERT INTO openhost_kv (namespace, key, value, expires_at)
                 VALUES ($1, $2, $3, now() + $4::BIGINT * INTERVAL '1 millisecond')
                 ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
                &[&&*name, &key, &value, &ttl],
            )
            .await?;
            Ok(())
        })
    }

    fn delete(&self, key: &[u8]) -> StoreFuture<bool> {
        let key = key.to_vec();
        self.write(key.clone(), move |client, name| async move {
            let deleted = query(
                &client,
                concat!(
                    "DELETE FROM openhost_kv WHERE namespace = $1 AND key = $2 RETURNING ",
                    live!()
                ),
                &[&&*name, &key],
            )
            .await?;
            Ok(deleted.first().is_some_and(|row| row.get::<_, bool>(0)))
        })
    }

    fn compare_and_swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> StoreFuture<bool> {
        let key = key.to_vec();
        let expected = expected.map(<[u8]>::to_vec);
        let new = new.map(<[u8]>::to_vec);
        self.write(key.clone(), move |client, name| async move {
            // Each case is one statement, atomic on its own: no read-then-write window. An expired row counts as
            // absent, and a swap makes the key permanent.
            let changed = match (expected, new) {
                (None, Some(new)) => {
                    execute(
                        &client,
                        "INSERT INTO openhost_kv AS kv (namespace, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = NULL
                         WHERE kv.expires_at <= now()",
                        &[&&*name, &key, &new],
                    )
                    .await?
                }
                (Some(expected), Some(new)) => {
                    execute(
                        &client,
                        concat!(
                            "UPDATE openhost_kv SET value = $4, expires_at = NULL
                             WHERE namespace = $1 AND key = $2 AND value = $3 AND ",
                            live!()
                        ),
                        &[&&*name, &key, &expected, &new],
                    )
                    .await?
                }
                (Some(expected), None) => {
                    execute(
                        &client,
                        concat!(
                            "DELETE FROM openhost_kv WHERE namespace = $1 AND key = $2 AND value = $3 AND ",
                            live!()
                        ),
                        &[&&*name, &key, &expected],
                    )
                    .await?
                }
                (None, None) => {
                    let present = query(
                        &client,
                        concat!(
                            "SELECT 1 FROM openhost_kv WHERE namespace = $1 AND key = $2 AND ",
                            live!()
                        ),
                        &[&&*name, &key],
                    )
                    .await?;
                    u64::from(present.is_empty())
                }
            };
            Ok(changed == 1)
        })
    }

    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> StoreFuture<Entries> {
        let start = prefix.to_vec();
        let end = prefix_end(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |client, name| async move {
            // bytea compares bytewise, as sled orders keys. Two statements rather than `$3 IS NULL OR key < $3`:
            // a generic plan of that would read past the prefix's range to the end of the namespace.
            let rows = match end {
                Some(end) => {
                    query(
                        &client,
                        concat!(
                            "SELECT key, value FROM openhost_kv WHERE namespace = $1 AND key >= $2 AND key < $3
                             AND ",
                            live!(),
                            " ORDER BY key LIMIT $4"
                        ),
                        &[&&*name, &start, &end, &limit],
                    )
                    .await?
                }
                None => {
                    query(
                        &client,
                        concat!(
                            "SELECT key, value FROM openhost_kv WHERE namespace = $1 AND key >= $2 AND ",
                            live!(),
                            " ORDER BY key LIMIT $3"
                        ),
                        &[&&*name, &start, &limit],
                    )
                    .await?
                }
            };
            Ok(rows.into_iter().map(|row| (row.get(0), row.get(1))).collect())
        })
    }

    /// Each statement committed (durably) before its future completed.
    fn flush(&self) -> StoreFuture<()> {
        super::done(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn the_end_of_a_prefix_range() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }
}
