//! Roles: what an authenticated user may do (Pushgate's extension of the
//! toolkit's single credential; README "Access control").
//!
//! A user named in `basic_auth_users` but not in `pushgate_authorization`
//! may do everything, as with the Pushgateway. Otherwise each route needs a
//! role, and a push scope (`jobs`, `grouping_key`) limits which groups a
//! `push` user may write or delete.

use crate::grouping::GroupingKey;
use crate::http::router::Route;

/// One role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// PUT/POST/DELETE on push paths (also the UI's per-group delete).
    Push,
    /// GET the telemetry path and the JSON API's `/api/v1/metrics`.
    Scrape,
    /// The web UI, its assets and `/api/v1/status`.
    Ui,
    /// Wipe, delete-by-labels and lifecycle endpoints.
    Admin,
}

impl Role {
    /// Parses a role name from the config file.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "push" => Some(Role::Push),
            "scrape" => Some(Role::Scrape),
            "ui" => Some(Role::Ui),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The name used in config and messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Push => "push",
            Role::Scrape => "scrape",
            Role::Ui => "ui",
            Role::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Role::Push => 1,
            Role::Scrape => 2,
            Role::Ui => 4,
            Role::Admin => 8,
        }
    }
}

/// A set of roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);
    /// Every role.
    pub const ALL: Roles = Roles(15);

    /// This set plus `r`.
    pub fn with(self, r: Role) -> Roles {
        Roles(self.0 | r.bit())
    }

    /// Whether `r` is in the set.
    pub fn has(self, r: Role) -> bool {
        self.0 & r.bit() != 0
    }
}

/// What one user may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The user's roles.
    pub roles: Roles,
    /// Jobs the user may push to (`name` or `prefix*`); `None` = any.
    pub jobs: Option<Vec<String>>,
    /// Labels every grouping key the user pushes to must carry.
    pub grouping_key: Vec<(String, String)>,
}

impl Grant {
    /// Everything (a user without a `pushgate_authorization` entry).
    pub fn everything() -> Grant {
        Grant { roles: Roles::ALL, jobs: None, grouping_key: Vec::new() }
    }

    /// Whether the push-path scope admits `key`.
    pub fn may_write(&self, key: &GroupingKey) -> bool {
        let labels = key.labels();
        let value = |name: &str| labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        if let Some(jobs) = &self.jobs {
            let job = value("job").unwrap_or("");
            let allowed = jobs.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => job.starts_with(prefix),
                None => job == p,
            });
            if !allowed {
                return false;
            }
        }
        self.grouping_key.iter().all(|(n, v)| value(n) == Some(v.as_str()))
    }
}

/// The role a route needs; `None` = any authenticated user (health probes,
/// OPTIONS, and answers the router gives without a handler).
pub fn required(route: &Route<'_>) -> Option<Role> {
    match route {
        Route::Push { .. } => Some(Role::Push),
        Route::Scrape | Route::ApiMetrics => Some(Role::Scrape),
        Route::Ui(_) | Route::ApiStatus | Route::Static(_) => Some(Role::Ui),
        Route::Wipe | Route::DeleteGroups | Route::Quit => Some(Role::Admin),
        Route::ApiOptions | Route::Healthy | Route::Ready | Route::QuitGet => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(job: &str, pairs: &[(&str, &str)]) -> GroupingKey {
        GroupingKey::new(job, pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())))
    }

    #[test]
    fn roles_are_a_set() {
        let r = Roles::NONE.with(Role::Push).with(Role::Ui);
        assert!(r.has(Role::Push) && r.has(Role::Ui));
        assert!(!r.has(Role::Scrape) && !r.has(Role::Admin));
        for role in [Role::Push, Role::Scrape, Role::Ui, Role::Admin] {
            assert!(Roles::ALL.has(role));
            assert_eq!(Role::parse(role.name()), Some(role));
        }
    }

    #[test]
    fn job_scope_matches_names_and_prefixes() {
        let g = Grant {
            roles: Roles::NONE.with(Role::Push),
            jobs: Some(vec!["backup".into(), "build-*".into()]),
            grouping_key: Vec::new(),
        };
        assert!(g.may_write(&key("backup", &[])));
        assert!(g.may_write(&key("build-42", &[("instance", "x")])));
        assert!(!g.may_write(&key("backups", &[])));
        assert!(!g.may_write(&key("other", &[])));
    }

    #[test]
    fn grouping_key_scope_needs_every_label() {
        let g = Grant {
            roles: Roles::NONE.with(Role::Push),
            jobs: None,
            grouping_key: vec![("team".into(), "a".into())],
        };
        assert!(g.may_write(&key("j", &[("team", "a"), ("x", "y")])));
        assert!(!g.may_write(&key("j", &[("team", "b")])));
        assert!(!g.may_write(&key("j", &[])));
        assert!(Grant::everything().may_write(&key("anything", &[])));
    }
}
