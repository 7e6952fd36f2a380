//! Example policy watcher: a program executed from under /tmp is denied, so the task that
//! ran it is killed. Registered in one line; linked by `use tw_example_policy as _;`.

use taskwatch_core::{task_watcher, Ctx, EventKind, Verdict};

/// True for paths the policy forbids.
pub fn forbidden(path: &str) -> bool {
    path.starts_with("/tmp/")
}

fn deny_tmp_exec(ctx: &Ctx<'_>) -> Verdict {
    match &ctx.event.kind {
        EventKind::Exec { exe: Some(exe), .. } if forbidden(exe) => Verdict::Deny,
        _ => Verdict::Continue,
    }
}

task_watcher!(exec, deny_tmp_exec);

#[cfg(test)]
mod tests {
    #[test]
    fn only_tmp_is_forbidden() {
        assert!(super::forbidden("/tmp/x/evil"));
        assert!(!super::forbidden("/tmpfoo/x") && !super::forbidden("/usr/bin/true"));
    }
}
