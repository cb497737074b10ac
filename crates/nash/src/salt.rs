//! Per-miner salted relabelling: each miner sees the same problem under different names.
//!
//! [`salt`] turns a canonical challenge and a 32-byte miner salt (derived by the caller, e.g.
//! from the validator's secret, the miner id and the challenge id) into the miner's *view* and a
//! [`SaltMap`]; [`SaltMap::desalt`] turns an answer to the view back into an answer to the
//! canonical challenge, which the validator then verifies with [`crate::verify()`] as usual.
//!
//! # What is relabelled
//!
//! A keyed permutation (SplitMix64 seeded from keccak-256 of a domain tag, the salt and the
//! challenge id) drives everything, so the view is a pure function of `(challenge, salt)`:
//!
//! * **Markets:** every intent gets a fresh random 64-bit id and every party a fresh random
//!   32-bit id (counterparty lists follow); intents and parties are shuffled. A settlement names
//!   intents only, so the intent ids are what bind an answer to one miner's view.
//! * **Two-player games:** rows and columns are permuted, and the two players swap roles with
//!   probability ½ (bimatrix: the view's row payoffs are the canonical column player's; zero-sum:
//!   the view's table is `−Aᵀ` under the permutations).
//! * **Three-player games:** each player's actions are permuted and the players are reordered.
//! * **Coalition games:** players are reordered (the value table is re-indexed by bitmask) and
//!   relabelled; de-salting maps every coalition mask and payoff back to canonical players.
//!
//! # How validators use it
//!
//! * **Verification** always happens on the canonical challenge: `verify(canonical,
//!   map.desalt(answer), reference)`. The reference solution of any view, de-salted, verifies with
//!   `Q = 1` (tested).
//! * **Copying.** A miner that copies another miner's salted answer submits bytes made for the
//!   other view; de-salted under *its own* map they name intents that do not exist (markets),
//!   put probability on the wrong actions (games) or group and pay the wrong players (coalition
//!   games), so the answer fails or scores `Q < 1`. On the
//!   generated test set every copied market answer fails and every copied game answer (non-trivial
//!   instances) loses quality — see the tests for the rates.
//! * **Identical answers.** Identical-answer groups for [`crate::score::epoch`] are formed from
//!   the canonical digests of *de-salted* answers ([`de_salted_digest`]), never from the raw
//!   salted bytes (which differ per miner by construction). Two miners who solved the problem
//!   independently share that digest whenever the answer is unique: on the test set, all but one
//!   non-trivial market instance (the exception, a resource-triangle LP, had alternative optima and the
//!   solver's tie-break follows intent order). Game answers are `f64` mixed strategies and an
//!   honest solve of a permuted game usually differs in the last bits (most games in the test), so
//!   a digest collision among game answers is evidence of copying de-salted answers or of a
//!   sybil answering for several identities, not of independent solving. Copying of *salted*
//!   bytes is caught by verification itself, not by digest comparison.
//!
//! # Limits
//!
//! A copied answer still verifies when, de-salted under the copier's map, it happens to be a
//! correct answer to the canonical problem: a market where nothing trades (the empty settlement
//! is every view's answer), a game whose equilibrium is invariant under the permutation (a
//! uniform mix, a 1×1 game), or a game with pure equilibria where the copied pure profile lands
//! on one (chance about `#pure equilibria / (rows · cols)` per copy). That is a legitimate
//! collision, not a leak of information: the copier guessed a true answer, and identical-answer
//! grouping then makes it share, not add, reward. The tests exclude no-trade markets and use games
//! with at least 4 actions per player; of 60 copies, 59 were caught (the one that verified was a
//! 4×4 game answered with a pure profile).

use crate::canonical::{Canonical, keccak256};
use crate::challenge::{Challenge, Problem};
use crate::class::{BimatrixGame, CoalitionGame, MatrixGame, ThreePlayerGame};
use crate::config::PmuConfig;
use crate::generate::SplitMix64;
use crate::settlement::{Answer, CoalitionAnswer, Fill, PostedPrice, Settlement, StrategyProfile};
use crate::units::{ChallengeId, Hash32, IntentId, PartyId};
use std::collections::{BTreeMap, BTreeSet};

/// How to turn an answer to a salted view back into an answer to the canonical challenge.
/// Built by [`salt`]; private so that only a real relabelling can produce one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaltMap {
    challenge: ChallengeId,
    kind: MapKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MapKind {
    /// View intent id → canonical intent id.
    Market(BTreeMap<IntentId, IntentId>),
    /// View player `v` is canonical player `order[v]`; for canonical player `p`, view action
    /// `k` is canonical action `actions[p][k]`.
    Game {
        order: Vec<usize>,
        actions: Vec<Vec<usize>>,
    },
    /// View player `v` is canonical player `order[v]` (coalition games).
    Players(Vec<usize>),
}

fn rng_for(challenge: &Challenge, salt: &[u8; 32]) -> SplitMix64 {
    let mut bytes = b"PIN/NASH/v1/salt".to_vec();
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(&challenge.id.0.to_be_bytes());
    let h = keccak256(&bytes);
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&h.0[..8]);
    SplitMix64::new(u64::from_be_bytes(seed))
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
fn permutation(rng: &mut SplitMix64, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        p.swap(i, j);
    }
    p
}

/// Fresh distinct party ids for `parties` (canonical → view).
fn relabel_parties(rng: &mut SplitMix64, parties: &[PartyId]) -> BTreeMap<PartyId, PartyId> {
    let mut used = BTreeSet::new();
    let mut map = BTreeMap::new();
    for p in parties {
        let fresh = loop {
            let x = PartyId(rng.range(1, u64::from(u32::MAX)) as u32);
            if used.insert(x) {
                break x;
            }
        };
        map.insert(*p, fresh);
    }
    map
}

/// The miner's view of `challenge` under `salt`, and the map back. Deterministic in both
/// inputs. The view carries `salt` in its `salt` field and keeps the challenge id.
#[must_use]
pub fn salt(challenge: &Challenge, salt: &[u8; 32]) -> (Challenge, SaltMap) {
    let mut rng = rng_for(challenge, salt);
    let mut view = challenge.clone();
    view.salt = Hash32(*salt);
    let parties = relabel_parties(&mut rng, &challenge.parties);
    let kind = match &challenge.problem {
        Problem::Market(m) => {
            let mut used = BTreeSet::new();
            let mut back = BTreeMap::new();
            let mut intents = m.intents.clone();
            for intent in &mut intents {
                let fresh = loop {
                    let x = IntentId(rng.next_u64());
                    if used.insert(x) {
                        break x;
                    }
                };
                back.insert(fresh, intent.id);
                intent.id = fresh;
                intent.party = parties.get(&intent.party).copied().unwrap_or(intent.party);
                for c in &mut intent.counterparties {
                    *c = parties.get(c).copied().unwrap_or(*c);
                }
                intent.counterparties.sort();
            }
            let order = permutation(&mut rng, intents.len());
            let mut shuffled: Vec<_> = order.iter().map(|&i| intents[i].clone()).collect();
            std::mem::swap(&mut intents, &mut shuffled);
            if let Problem::Market(vm) = &mut view.problem {
                vm.intents = intents;
            }
            let porder = permutation(&mut rng, challenge.parties.len());
            view.parties = porder
                .iter()
                .map(|&i| parties[&challenge.parties[i]])
                .collect();
            MapKind::Market(back)
        }
        Problem::ZeroSum(g) => {
            let actions = vec![permutation(&mut rng, g.rows), permutation(&mut rng, g.cols)];
            let order = if rng.next_u64() & 1 == 1 {
                vec![1, 0]
            } else {
                vec![0, 1]
            };
            let dims = [g.rows, g.cols];
            let (vr, vc) = (dims[order[0]], dims[order[1]]);
            let mut payoffs = Vec::with_capacity(vr * vc);
            for k in 0..vr {
                for l in 0..vc {
                    let c = canonical_profile(&order, &actions, &[k, l]);
                    let a = g.at(c[0], c[1]);
                    payoffs.push(if order[0] == 0 { a } else { -a });
                }
            }
            view.problem = Problem::ZeroSum(MatrixGame {
                rows: vr,
                cols: vc,
                payoffs,
            });
            view.parties = order
                .iter()
                .map(|&p| parties[&challenge.parties[p]])
                .collect();
            MapKind::Game { order, actions }
        }
        Problem::Bimatrix(g) => {
            let actions = vec![permutation(&mut rng, g.rows), permutation(&mut rng, g.cols)];
            let order = if rng.next_u64() & 1 == 1 {
                vec![1, 0]
            } else {
                vec![0, 1]
            };
            let dims = [g.rows, g.cols];
            let (vr, vc) = (dims[order[0]], dims[order[1]]);
            let mut row_payoffs = Vec::with_capacity(vr * vc);
            let mut col_payoffs = Vec::with_capacity(vr * vc);
            for k in 0..vr {
                for l in 0..vc {
                    let c = canonical_profile(&order, &actions, &[k, l]);
                    let pay = [g.a(c[0], c[1]), g.b(c[0], c[1])];
                    row_payoffs.push(pay[order[0]]);
                    col_payoffs.push(pay[order[1]]);
                }
            }
            view.problem = Problem::Bimatrix(BimatrixGame {
                rows: vr,
                cols: vc,
                row_payoffs,
                col_payoffs,
            });
            view.parties = order
                .iter()
                .map(|&p| parties[&challenge.parties[p]])
                .collect();
            MapKind::Game { order, actions }
        }
        Problem::ThreePlayer(g) => {
            let actions: Vec<Vec<usize>> = g
                .actions
                .iter()
                .map(|&n| permutation(&mut rng, n))
                .collect();
            let order = permutation(&mut rng, 3);
            let va = [
                g.actions[order[0]],
                g.actions[order[1]],
                g.actions[order[2]],
            ];
            let len = va.iter().product();
            let mut payoffs = [
                Vec::with_capacity(len),
                Vec::with_capacity(len),
                Vec::with_capacity(len),
            ];
            for a0 in 0..va[0] {
                for a1 in 0..va[1] {
                    for a2 in 0..va[2] {
                        let c = canonical_profile(&order, &actions, &[a0, a1, a2]);
                        let c = [c[0], c[1], c[2]];
                        for (v, table) in payoffs.iter_mut().enumerate() {
                            table.push(g.at(order[v], c));
                        }
                    }
                }
            }
            view.problem = Problem::ThreePlayer(ThreePlayerGame {
                actions: va,
                payoffs,
            });
            view.parties = order
                .iter()
                .map(|&p| parties[&challenge.parties[p]])
                .collect();
            MapKind::Game { order, actions }
        }
        Problem::Coalition(g) => {
            let order = permutation(&mut rng, g.players);
            let mut values = vec![0; g.values.len()];
            for (vmask, value) in values.iter_mut().enumerate() {
                let mut cmask = 0usize;
                for (v, &p) in order.iter().enumerate() {
                    if vmask >> v & 1 == 1 {
                        cmask |= 1 << p;
                    }
                }
                *value = g.values[cmask];
            }
            view.problem = Problem::Coalition(CoalitionGame {
                players: g.players,
                values,
            });
            view.parties = order
                .iter()
                .map(|&p| parties[&challenge.parties[p]])
                .collect();
            MapKind::Players(order)
        }
    };
    (
        view,
        SaltMap {
            challenge: challenge.id,
            kind,
        },
    )
}

/// The canonical action profile of a view action profile.
fn canonical_profile(order: &[usize], actions: &[Vec<usize>], view: &[usize]) -> Vec<usize> {
    let mut c = vec![0; order.len()];
    for (v, &k) in view.iter().enumerate() {
        let p = order[v];
        c[p] = actions[p][k];
    }
    c
}

impl SaltMap {
    /// The answer to the canonical challenge that `answer` (to the salted view) stands for.
    /// Deterministic and total: anything that does not fit the view (unknown intent ids,
    /// wrong shapes) is passed through unchanged for the verifier to reject.
    #[must_use]
    pub fn desalt(&self, answer: &Answer) -> Answer {
        match (&self.kind, answer) {
            (MapKind::Market(back), Answer::Settlement(s)) => {
                let id = |i: IntentId| back.get(&i).copied().unwrap_or(i);
                let mut fills: Vec<Fill> = s
                    .fills
                    .iter()
                    .map(|f| Fill {
                        seller: id(f.seller),
                        buyer: id(f.buyer),
                        ..*f
                    })
                    .collect();
                fills.sort();
                let mut prices: Vec<PostedPrice> = s
                    .prices
                    .iter()
                    .map(|p| PostedPrice {
                        intent: id(p.intent),
                        price: p.price,
                    })
                    .collect();
                prices.sort();
                Answer::Settlement(Settlement {
                    challenge: s.challenge,
                    fills,
                    prices,
                })
            }
            (MapKind::Game { order, actions }, Answer::Strategies(p)) => {
                let fits = p.strategies.len() == order.len()
                    && p.strategies
                        .iter()
                        .zip(order)
                        .all(|(s, &c)| s.len() == actions[c].len());
                if !fits {
                    return answer.clone();
                }
                let mut strategies: Vec<Vec<f64>> =
                    actions.iter().map(|a| vec![0.0; a.len()]).collect();
                for (v, s) in p.strategies.iter().enumerate() {
                    let c = order[v];
                    for (k, &x) in s.iter().enumerate() {
                        strategies[c][actions[c][k]] = x;
                    }
                }
                Answer::Strategies(StrategyProfile {
                    challenge: p.challenge,
                    strategies,
                })
            }
            (MapKind::Players(order), Answer::Coalitions(c)) => {
                let n = order.len();
                let fits =
                    c.payoffs.len() == n && c.structure.iter().all(|&m| u64::from(m) >> n == 0);
                if !fits {
                    return answer.clone();
                }
                let mut structure: Vec<u32> = c
                    .structure
                    .iter()
                    .map(|&m| {
                        (0..n)
                            .filter(|&v| m >> v & 1 == 1)
                            .fold(0u32, |acc, v| acc | 1 << order[v])
                    })
                    .collect();
                structure.sort_unstable();
                let mut payoffs = vec![0; n];
                for (v, &x) in c.payoffs.iter().enumerate() {
                    payoffs[order[v]] = x;
                }
                Answer::Coalitions(CoalitionAnswer {
                    challenge: c.challenge,
                    structure,
                    payoffs,
                })
            }
            _ => answer.clone(),
        }
    }

    /// The challenge this map belongs to.
    #[must_use]
    pub fn challenge(&self) -> ChallengeId {
        self.challenge
    }
}

/// The digest validators group identical answers by: the canonical hash of the de-salted answer,
/// with mixed strategies rounded to [`PmuConfig::identical_strategy_grid`] (settlements are
/// integers already and compare exactly).
#[must_use]
pub fn de_salted_digest(map: &SaltMap, answer: &Answer, pmu: &PmuConfig) -> Hash32 {
    match map.desalt(answer) {
        Answer::Strategies(mut p) => {
            let grid = pmu.identical_strategy_grid;
            if grid > 0.0 && grid.is_finite() {
                for x in p.strategies.iter_mut().flatten() {
                    // Correctly rounded IEEE operations in a fixed order: every validator gets
                    // the same bits. `+ 0.0` folds −0 into +0.
                    *x = (*x / grid).round() * grid + 0.0;
                }
            }
            Answer::Strategies(p).hash()
        }
        other => other.hash(),
    }
}

/// Which of one challenge's answers, given in arrival order with each miner's map and the
/// quality its de-salted answer verified to, are copies: `Some(i)` when the answer's *salted*
/// bytes equal those of answer `i`, its author, the two de-salt to different answers, and the
/// bytes verify *worse* under the answer's own map than under the author's — bytes made for
/// another miner's salt. The author of a set of equal bytes is the one whose own map makes the
/// best answer of them (the earliest on ties): only the miner the bytes were solved for de-salts
/// them to the right answer, so a copier that races its source to the validator takes nothing
/// from it. A copy is refused (`Q = 0`) even where its own `Q` is above 0, and it keeps its own
/// de-salted digest, so it never joins, and so never lowers, the group of the answer it copied.
///
/// Equal bytes that verify *as well* under both maps are not copies: in a small game two honest
/// miners' pure equilibria can have equal salted bytes (action 0 of each view, say) and de-salt
/// to two different equilibria. Refusing the later one punished honest miners (more often the
/// more identities answer, which paid a splitter) for an answer that is right for its own view.
/// Such an answer earns only if it is the first best answer (see [`crate::score`]), which a
/// copier, later than what it copies, is not.
#[must_use]
pub fn copied_from(answers: &[(&SaltMap, &Answer, f64)], pmu: &PmuConfig) -> Vec<Option<usize>> {
    let digests: Vec<Hash32> = answers
        .iter()
        .map(|(map, answer, _)| de_salted_digest(map, answer, pmu))
        .collect();
    let mut author: BTreeMap<Hash32, usize> = BTreeMap::new();
    for (k, (_, answer, q)) in answers.iter().enumerate() {
        author
            .entry(answer.hash())
            .and_modify(|i| {
                // Strictly better only: NaN and ties keep the earlier answer.
                if *q > answers[*i].2 {
                    *i = k;
                }
            })
            .or_insert(k);
    }
    answers
        .iter()
        .enumerate()
        .map(|(k, (_, answer, _))| {
            let i = author.get(&answer.hash()).copied().unwrap_or(k);
            (i != k && digests[i] != digests[k] && answers[k].2 < answers[i].2).then_some(i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ProblemClass;
    use crate::config::Config;
    use crate::generate::{Difficulty, challenge};
    use crate::solve::reference;
    use crate::verify::verify;

    /// Classes with a reference solver, and a difficulty with non-trivial games.
    pub(crate) fn solvable() -> Vec<ProblemClass> {
        vec![
            ProblemClass::SimpleSwap,
            ProblemClass::ConstrainedSwap,
            ProblemClass::ThreeParty,
            ProblemClass::ResourceTriangle,
            ProblemClass::ZeroSumGame,
            ProblemClass::GeneralGame,
            ProblemClass::CoalitionFormation,
        ]
    }

    fn difficulty() -> Difficulty {
        let mut d = Difficulty::easy();
        d.actions = d.actions.max(4);
        d
    }

    /// A market whose reference trades nothing has the empty settlement as its answer under
    /// every view: a legitimate collision, excluded as trivial.
    fn trivial(a: &Answer) -> bool {
        matches!(a, Answer::Settlement(s) if s.fills.is_empty() && s.prices.is_empty())
    }

    fn miner_salt(miner: u8, seed: u64) -> [u8; 32] {
        let mut s = [miner; 32];
        s[..8].copy_from_slice(&seed.to_be_bytes());
        s
    }

    #[test]
    fn reference_of_view_desalts_to_q1_and_is_deterministic() {
        let config = Config::default();
        for class in solvable() {
            for seed in 0..12 {
                let c = challenge(class, seed, &difficulty());
                let Ok(canon) = reference(&c, &config) else {
                    continue;
                };
                let (view, map) = salt(&c, &miner_salt(1, seed));
                assert_eq!(view.validate(), Ok(()), "{class:?} {seed}");
                assert_ne!(view.hash(), c.hash());
                let (view2, map2) = salt(&c, &miner_salt(1, seed));
                assert_eq!((&view, &map), (&view2, &map2));
                let a = reference(&view, &config).expect("view solves");
                let back = map.desalt(&a);
                assert_eq!(back, map2.desalt(&a));
                let v = verify(&c, &back, Some(&canon), &config);
                assert_eq!(v.quality, 1.0, "{class:?} {seed}: {:?}", v.violations);
            }
        }
    }

    #[test]
    fn strategies_group_on_the_grid_not_on_the_last_bits() {
        let config = Config::default();
        let mut d = difficulty();
        d.parties = 2;
        let c = challenge(ProblemClass::GeneralGame, 4, &d);
        let (view, map) = salt(&c, &miner_salt(1, 4));
        let Ok(Answer::Strategies(p)) = reference(&view, &config) else {
            panic!("a bimatrix reference answer");
        };
        let nudged = |by: f64| {
            let mut q = p.clone();
            // Move mass between the two largest entries: still a probability vector.
            let s = &mut q.strategies[0];
            let mut order: Vec<usize> = (0..s.len()).collect();
            order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
            s[order[0]] -= by;
            s[order[1]] += by;
            Answer::Strategies(q)
        };
        let digest = |a: &Answer| de_salted_digest(&map, a, &config.pmu);
        let exact = digest(&Answer::Strategies(p.clone()));
        assert_eq!(digest(&nudged(1e-13)), exact, "float noise groups");
        assert_ne!(digest(&nudged(1e-3)), exact, "a different profile does not");
        let mut raw = config.pmu.clone();
        raw.identical_strategy_grid = 0.0;
        assert_ne!(
            de_salted_digest(&map, &nudged(1e-13), &raw),
            de_salted_digest(&map, &Answer::Strategies(p), &raw),
            "without a grid the last bits count"
        );
    }

    #[test]
    fn independent_market_solutions_share_the_desalted_digest() {
        let config = Config::default();
        let (mut same, mut total) = (0, 0);
        for class in solvable() {
            for seed in 0..8 {
                let c = challenge(class, seed, &difficulty());
                let (va, ma) = salt(&c, &miner_salt(1, seed));
                let (vb, mb) = salt(&c, &miner_salt(2, seed));
                let (Ok(a), Ok(b)) = (reference(&va, &config), reference(&vb, &config)) else {
                    continue;
                };
                if trivial(&a) {
                    continue;
                }
                assert_ne!(a.hash(), b.hash(), "salted bytes differ");
                total += 1;
                if de_salted_digest(&ma, &a, &config.pmu) == de_salted_digest(&mb, &b, &config.pmu)
                {
                    same += 1;
                } else {
                    eprintln!("{class:?} seed {seed}: honest de-salted digests differ");
                }
            }
        }
        // The reference solvers break ties (alternative optima, several equilibria) by the order
        // they see, so honest solutions of different views agree only when the optimum is
        // unique; report the rate.
        eprintln!("honest de-salted digests agree: {same}/{total}");
        assert!(same * 10 >= total * 5, "{same}/{total} share a digest");
    }

    #[test]
    fn copied_salted_answers_fail_for_the_copier() {
        let config = Config::default();
        let (mut caught, mut total) = (0, 0);
        for class in solvable() {
            for seed in 0..12 {
                let c = challenge(class, seed, &difficulty());
                let Ok(canon) = reference(&c, &config) else {
                    continue;
                };
                if trivial(&canon) {
                    continue;
                }
                let (va, _) = salt(&c, &miner_salt(1, seed));
                let (_, mb) = salt(&c, &miner_salt(2, seed));
                let a = reference(&va, &config).expect("solves");
                let copied = mb.desalt(&a);
                let v = verify(&c, &copied, Some(&canon), &config);
                total += 1;
                if v.quality < 1.0 {
                    caught += 1;
                } else {
                    assert!(!class.is_market(), "{class:?} {seed}: copy verified");
                    eprintln!("{class:?} {seed}: copied answer verified: {copied:?}");
                }
            }
        }
        eprintln!("copied salted answers caught: {caught}/{total}");
        assert!(caught * 10 >= total * 9, "caught {caught}/{total}");
    }

    #[test]
    fn copies_of_salted_bytes_are_found() {
        let config = Config::default();
        let (mut checked, mut copies, mut raced_caught) = (0, 0, 0);
        for class in solvable() {
            for seed in 0..6 {
                let c = challenge(class, seed, &difficulty());
                let views: Vec<_> = (1..=3).map(|m| salt(&c, &miner_salt(m, seed))).collect();
                let Ok(a) = reference(&views[0].0, &config) else {
                    continue;
                };
                let Ok(b) = reference(&views[1].0, &config) else {
                    continue;
                };
                let q =
                    |k: usize, x: &Answer| verify(&c, &views[k].1.desalt(x), None, &config).quality;
                let (qa, qb, qc) = (q(0, &a), q(1, &b), q(2, &a));
                // Miner 3 sends miner 1's bytes, after both honest answers.
                let arrivals = [
                    (&views[0].1, &a, qa),
                    (&views[1].1, &b, qb),
                    (&views[2].1, &a, qc),
                ];
                let found = copied_from(&arrivals, &config.pmu);
                assert_eq!(found[..2], [None, None], "{class:?} {seed}: honest answers");
                let same = de_salted_digest(&views[0].1, &a, &config.pmu)
                    == de_salted_digest(&views[2].1, &a, &config.pmu);
                // A label-independent answer (no trade, a symmetric game) de-salts alike, and
                // bytes that are as right for the copier's view as for the source's (a pure
                // equilibrium landing on another) verify as well: neither is a copy in any sense
                // that matters. Every other one is caught.
                assert_eq!(
                    found[2],
                    (!same && qc < qa).then_some(0),
                    "{class:?} {seed}"
                );
                // The copy racing ahead of its source still is the copy, unless it verifies as
                // well under the copier's map (then the earlier one keeps the bytes).
                let raced = [(&views[2].1, &a, qc), (&views[0].1, &a, qa)];
                let found_raced = copied_from(&raced, &config.pmu);
                if !same && qa > qc {
                    assert_eq!(found_raced, [Some(1), None], "{class:?} {seed}: raced");
                    raced_caught += 1;
                }
                copies += usize::from(found[2].is_some());
                checked += 1;
            }
        }
        assert!(checked >= 20 && copies * 2 >= checked, "{copies}/{checked}");
        assert!(
            raced_caught * 2 >= copies,
            "raced copies caught {raced_caught}/{copies}"
        );
    }

    #[test]
    fn three_player_and_coalition_views_are_consistent() {
        let mut d = difficulty();
        d.parties = 3;
        d.actions = 3;
        let c = challenge(ProblemClass::GeneralGame, 5, &d);
        let (view, map) = salt(&c, &miner_salt(3, 5));
        assert_eq!(view.validate(), Ok(()));
        let (Problem::ThreePlayer(g), Problem::ThreePlayer(vg)) = (&c.problem, &view.problem)
        else {
            panic!("three-player");
        };
        // A pure view profile de-salts to the canonical profile with the same payoffs.
        let MapKind::Game { order, actions } = &map.kind else {
            panic!("game map")
        };
        for a in [[0, 1, 2], [2, 2, 0], [1, 0, 1]] {
            let cp = canonical_profile(order, actions, &a);
            for (v, &p) in order.iter().enumerate() {
                assert_eq!(vg.at(v, a), g.at(p, [cp[0], cp[1], cp[2]]));
            }
        }
        let mut d = difficulty();
        d.parties = 6;
        let c = challenge(ProblemClass::CoalitionFormation, 9, &d);
        let (view, _) = salt(&c, &miner_salt(3, 9));
        assert_eq!(view.validate(), Ok(()));
        let (Problem::Coalition(g), Problem::Coalition(vg)) = (&c.problem, &view.problem) else {
            panic!("coalition");
        };
        let mut a = g.values.clone();
        let mut b = vg.values.clone();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        assert_eq!(vg.values[vg.values.len() - 1], g.values[g.values.len() - 1]);
    }
}
