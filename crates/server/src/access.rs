//! Who sees what: root (and uids or gids the config grants) sees every task; anyone else
//! only tasks whose real or effective uid is its own. Losses carry no task: all see them.

use serde::Deserialize;
use taskwatch_core::Task;

/// The config's grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Non-root uids that see every task.
    #[serde(default)]
    pub see_all_uids: Vec<u32>,
    /// Peers whose primary gid (from SO_PEERCRED) is one of these see every task.
    #[serde(default)]
    pub see_all_gids: Vec<u32>,
}

/// A subscriber's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every task.
    All,
    /// Tasks whose real or effective uid is this.
    OwnedBy(u32),
}

impl Visibility {
    /// The view of a peer with these credentials.
    pub fn for_peer(uid: u32, gid: u32, config: &AccessConfig) -> Visibility {
        if uid == 0 || config.see_all_uids.contains(&uid) || config.see_all_gids.contains(&gid) {
            Visibility::All
        } else {
            Visibility::OwnedBy(uid)
        }
    }

    /// Whether an event about `task` may be shown. A task whose credentials are unknown
    /// is shown only to those who see all.
    pub fn may_see(self, task: &Task) -> bool {
        match self {
            Visibility::All => true,
            Visibility::OwnedBy(uid) => task.creds.is_some_and(|c| c.ruid == uid || c.euid == uid),
        }
    }

    /// "all" or "own", for `hello`.
    pub fn name(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::OwnedBy(_) => "own",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskwatch_core::{Creds, Ids};

    #[test]
    fn real_or_effective_uid_owns() {
        let mut t = Task::unknown(Ids { pid: 5, tgid: 5 });
        let own = Visibility::for_peer(1000, 1000, &AccessConfig::default());
        assert!(!own.may_see(&t));
        t.creds = Some(Creds {
            ruid: 0,
            euid: 1000,
            ..Creds::default()
        });
        assert!(own.may_see(&t));
        t.creds = Some(Creds::default());
        assert!(!own.may_see(&t));
        assert!(Visibility::for_peer(0, 0, &AccessConfig::default()).may_see(&t));
        let granted = AccessConfig {
            see_all_uids: vec![1000],
            ..AccessConfig::default()
        };
        assert_eq!(Visibility::for_peer(1000, 1, &granted), Visibility::All);
    }
}
