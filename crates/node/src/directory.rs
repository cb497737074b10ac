//! Who a service lets in. A request's sender is authenticated by its signature ([`crate::wire`]);
//! whether that sender may use the service is a question for the chain: miners accept
//! challenges only from staked validators, validators accept answers only from miners that are
//! whitelisted and staked, the gateway accepts intents from anyone.
//!
//! Chain reads are slow next to a request, so [`ChainDirectory`] caches each answer for a short
//! time (negative answers too, so a flood of unknown senders costs one read per sender and
//! period, not one per request).

use alloy::primitives::Address;
use pin_chain::{AnyLedger, Pin as Amount, Protocol};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A boxed future, for the object-safe [`Directory`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Decides whether an authenticated sender is admitted.
pub trait Directory: Send + Sync {
    /// Whether `who` may use the service.
    fn admits(&self, who: Address) -> BoxFuture<'_, bool>;
}

/// Any fixed rule (`|a| members.contains(&a)`, `|_| true`) is a directory.
impl<F> Directory for F
where
    F: Fn(Address) -> bool + Send + Sync,
{
    fn admits(&self, who: Address) -> BoxFuture<'_, bool> {
        let yes = self(who);
        Box::pin(async move { yes })
    }
}

/// The role a [`ChainDirectory`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainRole {
    /// Holds validator stake (`StakingManager.validatorStake > 0`).
    Validator,
    /// A compute node: whitelisted, with at least the minimum stake (`isEligible`).
    Miner,
}

/// Checks a role on chain, caching each answer for `ttl`.
pub struct ChainDirectory {
    protocol: Arc<Protocol<AnyLedger>>,
    role: ChainRole,
    ttl: Duration,
    cache: Mutex<HashMap<Address, (bool, Instant)>>,
}

impl std::fmt::Debug for ChainDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainDirectory")
            .field("role", &self.role)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ChainDirectory {
    /// A directory of `role` on `protocol`'s chain; answers are reused for `ttl`.
    #[must_use]
    pub fn new(protocol: Arc<Protocol<AnyLedger>>, role: ChainRole, ttl: Duration) -> Self {
        Self {
            protocol,
            role,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    async fn lookup(&self, who: Address) -> bool {
        let answer = match self.role {
            ChainRole::Validator => self
                .protocol
                .validator_stake(who)
                .await
                .map(|s| s != Amount::ZERO),
            ChainRole::Miner => self.protocol.account(who).await.map(|a| a.eligible),
        };
        match answer {
            Ok(yes) => yes,
            Err(e) => {
                // An unreachable chain admits nobody; the sender retries.
                tracing::warn!(%who, error = %e, "directory lookup failed");
                false
            }
        }
    }
}

impl Directory for ChainDirectory {
    fn admits(&self, who: Address) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let now = Instant::now();
            if let Some(&(yes, at)) = self
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&who)
                && now.duration_since(at) < self.ttl
            {
                return yes;
            }
            let yes = self.lookup(who).await;
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(who, (yes, now));
            yes
        })
    }
}
