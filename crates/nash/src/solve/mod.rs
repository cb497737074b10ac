//! Reference solvers: the validator's own answer to each class.
//!
//! | class | solver | exactness |
//! |---|---|---|
//! | simple / constrained swap | [`swap`]: 1-D concave maximisation over the lot lattice, Nash bargaining price | exact (integers) |
//! | three-party, resource triangle (divisible) | [`clearing`]: welfare LP per resource, solved as a min-cost flow ([`flow`]); competitive prices per connected part | exact (integers) |
//! | three-party, resource triangle with lots, minimum fills, bundles | [`indivisible`]: welfare MILP by branch and bound ([`milp`]) per bundle-joined set of resources, prices from the duals with integer decisions fixed | optimal unless `milp_max_nodes` is hit (then best found) |
//! | zero-sum game | [`zero_sum`]: simplex on the column player's side from the slack basis (steepest edge), exact polish on the support | ~1e-15 |
//! | bimatrix game | [`lemke_howson`] | checked ε ≤ 1e-9 of the payoff range |
//! | three-player game | [`three_player`]: pure profiles, then Porter–Nudelman–Shoham support enumeration with Newton/Levenberg–Marquardt | checked ε ≤ 1e-9 of the payoff range |
//! | coalition formation | [`coalition`]: DP over subsets (`3ⁿ`, n ≤ 16) for the structure, least-core LP by constraint generation for the split | exact structure; split rounded to integers |
//!

pub mod clearing;
pub mod coalition;
pub mod flow;
pub mod indivisible;
pub mod lemke_howson;
pub mod lp;
pub mod milp;
pub mod swap;
pub mod three_player;
pub mod zero_sum;

use crate::challenge::{Challenge, Problem};
use crate::config::Config;
use crate::error::SolveError;
use crate::settlement::{Answer, StrategyProfile};

/// The reference answer to a challenge (validated first).
pub fn reference(challenge: &Challenge, config: &Config) -> Result<Answer, SolveError> {
    challenge.validate()?;
    let id = challenge.id;
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
        Problem::ThreePlayer(g) => {
            let [s0, s1, s2] = three_player::solve_three_player(g, &config.solver)?.strategies;
            Ok(Answer::Strategies(StrategyProfile {
                challenge: id,
                strategies: vec![s0, s1, s2],
            }))
        }
        Problem::Coalition(g) => {
            coalition::solve_coalition(id, g, &config.solver).map(Answer::Coalitions)
        }
    }
}
