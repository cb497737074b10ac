//! Challenges: a problem instance as the validator broadcasts it to miners.
//!
//! # JSON
//!
//! `problem` is tagged by `type` (`market`, `zero_sum`, `bimatrix`, `three_player`,
//! `coalition`). `salt` is 32 bytes of hex; `deadline_ms` is a Unix time in milliseconds.
//!
//! ```json
//! {
//!   "id": 1,
//!   "class": "zero_sum_game",
//!   "parties": [64, 27],
//!   "salt": "0x0000000000000000000000000000000000000000000000000000000000000000",
//!   "deadline_ms": 1700000000000,
//!   "problem": { "type": "zero_sum", "rows": 2, "cols": 2, "payoffs": [1, -1, -1, 1] }
//! }
//! ```

use crate::canonical::{Canonical, Writer};
use crate::class::{
    BimatrixGame, CoalitionGame, MarketInstance, MatrixGame, ProblemClass, ThreePlayerGame,
};
use crate::error::InstanceError;
use crate::units::{ChallengeId, Hash32, PartyId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The instance inside a challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Problem {
    /// Intents to clear (market classes).
    Market(MarketInstance),
    /// A zero-sum matrix game.
    ZeroSum(MatrixGame),
    /// A bimatrix game.
    Bimatrix(BimatrixGame),
    /// A three-player game.
    ThreePlayer(ThreePlayerGame),
    /// A coalition game.
    Coalition(CoalitionGame),
}

/// A problem broadcast to miners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Challenge {
    /// Unique per validator.
    pub id: ChallengeId,
    /// The class (decides PMU and how answers are judged).
    pub class: ProblemClass,
    /// The parties involved; for games, player `i` is `parties[i]`.
    pub parties: Vec<PartyId>,
    /// Fresh randomness per challenge against precomputation; each miner receives a view
    /// relabelled by its own salt (see [`crate::salt`]).
    pub salt: Hash32,
    /// Answers after this Unix time (ms) are not accepted.
    pub deadline_ms: u64,
    /// The instance.
    pub problem: Problem,
}

impl Challenge {
    /// Checks the instance, that it matches `class`, and that `parties` covers it exactly.
    pub fn validate(&self) -> Result<(), InstanceError> {
        let mut seen = BTreeSet::new();
        for p in &self.parties {
            if !seen.insert(*p) {
                return Err(InstanceError::DuplicateParty { party: *p });
            }
        }
        let shape = |reason: String| InstanceError::ClassShape {
            class: self.class,
            reason,
        };
        let players = match (&self.problem, self.class) {
            (Problem::Market(m), c) if c.is_market() => {
                m.validate(c)?;
                for i in &m.intents {
                    if !seen.contains(&i.party) {
                        return Err(InstanceError::UnknownParty {
                            intent: i.id,
                            party: i.party,
                        });
                    }
                }
                None
            }
            (Problem::ZeroSum(g), ProblemClass::ZeroSumGame) => {
                g.validate()?;
                Some(2)
            }
            (Problem::Bimatrix(g), ProblemClass::GeneralGame) => {
                g.validate()?;
                Some(2)
            }
            (Problem::ThreePlayer(g), ProblemClass::GeneralGame) => {
                g.validate()?;
                Some(3)
            }
            (Problem::Coalition(g), ProblemClass::CoalitionFormation) => {
                g.validate()?;
                Some(g.players)
            }
            _ => {
                return Err(shape(
                    "problem: its type does not belong to the class".into(),
                ));
            }
        };
        if let Some(n) = players
            && n != self.parties.len()
        {
            return Err(shape(format!(
                "parties: {} listed, the game has {n} players",
                self.parties.len()
            )));
        }
        Ok(())
    }

    /// Parses and validates a challenge from JSON.
    pub fn from_json(s: &str) -> crate::Result<Self> {
        let c: Self = serde_json::from_str(s).map_err(|e| crate::Error::Json(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }
}

impl Canonical for Challenge {
    const DOMAIN: &'static str = "challenge";

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.id.0);
        w.u8(self.class.tag());
        w.seq(&self.parties, |w, p| w.u32(p.0));
        w.bytes(&self.salt.0);
        w.u64(self.deadline_ms);
        match &self.problem {
            Problem::Market(m) => {
                w.u8(0);
                m.encode(w);
            }
            Problem::ZeroSum(g) => {
                w.u8(1);
                g.encode(w);
            }
            Problem::Bimatrix(g) => {
                w.u8(2);
                g.encode(w);
            }
            Problem::ThreePlayer(g) => {
                w.u8(3);
                g.encode(w);
            }
            Problem::Coalition(g) => {
                w.u8(4);
                g.encode(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "id": 1,
      "class": "zero_sum_game",
      "parties": [64, 27],
      "salt": "0x0000000000000000000000000000000000000000000000000000000000000000",
      "deadline_ms": 1700000000000,
      "problem": { "type": "zero_sum", "rows": 2, "cols": 2, "payoffs": [1, -1, -1, 1] }
    }"#;

    #[test]
    fn documented_example_parses_validates_and_hashes_stably() {
        let c = Challenge::from_json(EXAMPLE).expect("valid");
        assert_eq!(c.parties, vec![PartyId(64), PartyId(27)]);
        let again: Challenge =
            serde_json::from_str(&serde_json::to_string(&c).expect("ser")).expect("de");
        assert_eq!(again.hash(), c.hash());
        let mut salted = c.clone();
        salted.salt = Hash32([1; 32]);
        assert_ne!(salted.hash(), c.hash());
    }

    #[test]
    fn mismatches_are_rejected_with_the_field() {
        let c = Challenge::from_json(EXAMPLE).expect("valid");
        let mut wrong_class = c.clone();
        wrong_class.class = ProblemClass::GeneralGame;
        assert!(matches!(
            wrong_class.validate(),
            Err(InstanceError::ClassShape { .. })
        ));
        let mut three = c.clone();
        three.parties.push(PartyId(12));
        assert!(
            matches!(three.validate(), Err(InstanceError::ClassShape { reason, .. }) if reason.contains("parties"))
        );
        let mut dup = c;
        dup.parties = vec![PartyId(1), PartyId(1)];
        assert_eq!(
            dup.validate(),
            Err(InstanceError::DuplicateParty { party: PartyId(1) })
        );
        assert!(matches!(
            Challenge::from_json("{\"id\": -1}"),
            Err(crate::Error::Json(_))
        ));
    }
}
