//! The sync policy: which proposals a rule may decide without a person. Pure data and pure
//! functions; the store-backed review applies it (`review::apply_policy`) and `propose --format
//! json` reports it as each proposal's `auto`.
//!
//! A case's correspondence (link, create) and each follow-up kind and field (name, address,
//! phone, email, move, close, create) is `auto` or `person`. Closures always need a person,
//! whatever the configuration says.

use super::{Proposal, ProposalKind};

/// Who decides a kind of proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The policy decides by itself (recorded in the audit log with the rule that decided).
    Auto,
    /// A SOR administrator decides.
    Person,
}

impl Who {
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Auto => "auto",
            Who::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<Who> {
        match s {
            "auto" => Some(Who::Auto),
            "person" => Some(Who::Person),
            _ => None,
        }
    }
}

/// Which decisions need a person. The defaults are what a careful SOR administrator accepts:
/// the municipality's own contact data (address, phone, e-mail) follows FK-ORG by itself once the
/// unit is linked; names, moves, new units and closures are looked at by a person; a link is
/// decided by the rule only where the matcher expects at most one wrong in a thousand.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPolicy {
    /// A matched link at this confidence or above, without flags, is decided without a person.
    pub link_auto_min: f64,
    pub name: Who,
    pub address: Who,
    pub phone: Who,
    pub email: Who,
    pub moves: Who,
    pub create: Who,
    /// "Not in SOR" for a unit of a kind or level the municipality never registers in SOR.
    pub not_in_sor: Who,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            link_auto_min: SyncPolicy::DEFAULT_LINK_AUTO_MIN,
            name: Who::Person,
            address: Who::Auto,
            phone: Who::Auto,
            email: Who::Auto,
            moves: Who::Person,
            create: Who::Person,
            not_in_sor: Who::Auto,
        }
    }
}

/// Why the policy decided a proposal by itself: recorded as the actor of the automatic decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule(pub String);

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SyncPolicy {
    /// Link confidence at or above which the rule decides a link (at most 1 wrong in 1,000).
    pub const DEFAULT_LINK_AUTO_MIN: f64 = 0.999;
    /// The lowest `link_auto_min` a configuration may set: below it the rule would take links
    /// the matcher is not sure of.
    pub const LINK_AUTO_FLOOR: f64 = 0.95;
    /// The field names an update can carry, as in the JSON contract.
    pub const FIELDS: [&'static str; 4] = ["name", "address", "phone", "email"];

    /// Who decides a change of `field` (`name`, `address`, `phone`, `email`); unknown fields need a person.
    pub fn field(&self, field: &str) -> Who {
        match field {
            "name" => self.name,
            "address" => self.address,
            "phone" => self.phone,
            "email" => self.email,
            _ => Who::Person,
        }
    }

    /// Sets one key of the policy as the configuration names it (`link_auto_min` takes a number,
    /// the others `auto` or `person`). `close` can only be `person`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if key == "link_auto_min" {
            let v: f64 = value.parse().map_err(|_| format!("link_auto_min must be a number, not {value:?}"))?;
            if !(SyncPolicy::LINK_AUTO_FLOOR..=1.0).contains(&v) {
                return Err(format!(
                    "link_auto_min must lie between {} and 1 (the rule must not decide links the matcher is unsure of), not {v}",
                    SyncPolicy::LINK_AUTO_FLOOR
                ));
            }
            self.link_auto_min = v;
            return Ok(());
        }
        let who = Who::parse(value).ok_or_else(|| format!("{key} must be \"auto\" or \"person\", not {value:?}"))?;
        match key {
            "name" => self.name = who,
            "address" => self.address = who,
            "phone" => self.phone = who,
            "email" => self.email = who,
            "move" => self.moves = who,
            "create" => self.create = who,
            "not_in_sor" => self.not_in_sor = who,
            "close" if who == Who::Person => {}
            "close" => return Err("close must be \"person\": closures in SOR always need a person".to_string()),
            other => {
                return Err(format!(
                    "unknown policy key {other:?} (known: link_auto_min, name, address, phone, email, move, close, create, not_in_sor)"
                ))
            }
        }
        Ok(())
    }

    /// The rule that decides `kind` without a person, given a link's confidence and flags or an
    /// update's fields; None when a person must decide.
    pub fn rule_for(
        &self,
        kind: ProposalKind,
        confidence: Option<f64>,
        flagged: bool,
        sor_id_on_unit: bool,
        fields: &[&str],
    ) -> Option<Rule> {
        match kind {
            ProposalKind::Link if flagged => None,
            ProposalKind::Link if sor_id_on_unit => {
                Some(Rule("policy:link[the FK-ORG unit carries this SOR-ID]".to_string()))
            }
            ProposalKind::Link => {
                let c = confidence?;
                (c >= self.link_auto_min).then(|| Rule(format!("policy:link[confidence>={}]", self.link_auto_min)))
            }
            ProposalKind::Create => (self.create == Who::Auto).then(|| Rule("policy:create=auto".to_string())),
            ProposalKind::Update => {
                let all_auto = !fields.is_empty() && fields.iter().all(|f| self.field(f) == Who::Auto);
                all_auto.then(|| Rule(format!("policy:{}=auto", fields.join("+"))))
            }
            ProposalKind::Move => (self.moves == Who::Auto).then(|| Rule("policy:move=auto".to_string())),
            ProposalKind::Close => None,
            // Writing the SOR-ID back follows from the decided link; it changes nothing in SOR.
            ProposalKind::WriteBack => Some(Rule("policy:write_back follows the link".to_string())),
        }
    }

    /// The policy with `overrides` (key, value as written) applied in order; the first bad one
    /// is the error.
    pub fn with(&self, overrides: &[(String, String)]) -> Result<SyncPolicy, String> {
        let mut p = self.clone();
        for (k, v) in overrides {
            p.set(k, v)?;
        }
        Ok(p)
    }

    /// [`Self::rule_for`] a core proposal.
    pub fn rule(&self, p: &Proposal) -> Option<Rule> {
        match p {
            Proposal::Link(l) => self.rule_for(
                ProposalKind::Link,
                Some(l.confidence),
                !l.flags.is_empty(),
                l.basis == super::LinkBasis::SorIdOnUnit,
                &[],
            ),
            Proposal::Update(u) => {
                let fields: Vec<&str> = u.changes.iter().map(|c| c.field).collect();
                self.rule_for(ProposalKind::Update, None, false, false, &fields)
            }
            other => self.rule_for(other.kind(), None, false, false, &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_always_need_a_person() {
        let mut p = SyncPolicy::default();
        assert!(p.set("close", "auto").is_err());
        assert!(p.set("close", "person").is_ok());
        assert_eq!(p.rule_for(ProposalKind::Close, None, false, false, &[]), None);
    }

    #[test]
    fn an_update_is_automatic_only_when_every_field_is() {
        let p = SyncPolicy::default();
        assert!(p.rule_for(ProposalKind::Update, None, false, false, &["phone", "address"]).is_some());
        assert!(p.rule_for(ProposalKind::Update, None, false, false, &["phone", "name"]).is_none());
    }

    #[test]
    fn links_below_the_band_or_flagged_need_a_person_and_the_band_has_a_floor() {
        let mut p = SyncPolicy::default();
        assert!(p.rule_for(ProposalKind::Link, Some(0.9989), false, false, &[]).is_none());
        assert!(p.rule_for(ProposalKind::Link, Some(0.9995), false, false, &[]).is_some());
        assert!(p.rule_for(ProposalKind::Link, Some(1.0), true, false, &[]).is_none());
        assert!(p.set("link_auto_min", "0.5").is_err());
        assert!(p.set("link_auto_min", "0.98").is_ok());
        assert!(p.set("moves", "auto").is_err(), "unknown keys are refused");
    }
}
