//! Reference solvers: the validator's own answer to each class.
//!
//! | class | solver | exactness |
//! |---|---|---|
//! | simple / constrained swap | [`swap`]: 1-D concave maximisation over the lot lattice, Nash bargaining price | exact (integers) |
//! | three-party, resource triangle (divisible) | [`clearing`]: welfare LP per resource, prices from duals | exact after rounding (totally unimodular) |
//! | three-party, resource triangle with lots, minimum fills, bundles | [`indivisible`]: welfare MILP by branch and bound ([`milp`]) per bundle-joined set of resources, prices from the duals with integer decisions fixed | optimal unless `milp_max_nodes` is hit (then best found) |
//! | zero-sum game | [`zero_sum`]: LP | ~1e-12 |
//! | bimatrix game | [`lemke_howson`] | checked ε ≤ 1e-9 of the payoff range |
//!
//! Not yet written (they return [`SolveError::Unsupported`]): three-player games, coalition
//! formation.

pub mod clearing;
pub mod indivisible;
pub mod lemke_howson;
pub mod lp;
pub mod milp;
pub mod swap;
pub mod zero_sum;

use crate::challenge::{Challenge, Problem};
use crate::config::Config;
use crate::error::SolveError;
use crate::settlement::{Answer, StrategyProfile};

/// The reference answer to a challenge (validated first).
pub fn reference(challenge: &Challenge, config: &Config) -> Result<Answer, SolveError> {
    challenge.validate()?;
    let id = challenge.id;
    let unsupported = |what: &str| SolveError::Unsupported {
        class: challenge.class,
        what: what.into(),
    };
    match &challenge.problem {
        Problem::Market(m) if challenge.class.is_bilateral() => {
            swap::solve_swap(id, m, &config.settlement).map(Answer::Settlement)
        }
        Problem::Market(m) => {
            clearing::solve_clearing(id, challenge.class, m, &config.solver).map(Answer::Settlement)
        }
        Problem::ZeroSum(g) => {
            let s = zero_sum::solve_zero_sum(g, &config.solver)?;
            Ok(Answer::Strategies(StrategyProfile {
                challenge: id,
                strategies: vec![s.row, s.col],
            }))
        }
        Problem::Bimatrix(g) => {
            let s = lemke_howson::solve_bimatrix(g, &config.solver)?;
            Ok(Answer::Strategies(StrategyProfile {
                challenge: id,
                strategies: vec![s.row, s.col],
            }))
        }
        Problem::ThreePlayer(_) => Err(unsupported("three-player games")),
        Problem::Coalition(_) => Err(unsupported("coalition formation")),
    }
}
