//! Per-CPU subscriber lists, as taskstats keeps its listeners: interest is recorded per
//! CPU and an event goes only to subscribers of the CPU it happened on. The event path
//! reads an immutable snapshot (arc-swap) without a lock; changes build and swap a new one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::{ArcSwap, Guard};

use crate::interest::Interest;
use crate::subscriber::Subscriber;

/// One subscriber's entry in a CPU's list: all its registrations naming that CPU. Several
/// registrations add up; the subscriber gets an event once if any of them wants it.
#[derive(Debug)]
pub struct Route {
    /// Who.
    pub subscriber: Arc<Subscriber>,
    /// Its registrations that name this CPU.
    pub interests: Vec<Arc<Interest>>,
}

/// An immutable routing snapshot.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// Index: CPU number.
    pub per_cpu: Vec<Vec<Route>>,
    /// Every subscriber with at least one registration (for CPU-less events: losses).
    pub registered: Vec<Arc<Subscriber>>,
}

impl RouteTable {
    /// The routes of `cpu` (none for a CPU beyond the table).
    pub fn cpu(&self, cpu: u32) -> &[Route] {
        self.per_cpu.get(cpu as usize).map_or(&[], Vec::as_slice)
    }
}

#[derive(Debug, Default)]
struct Registry {
    subscribers: BTreeMap<u64, Entry>,
    next_registration: u64,
}

#[derive(Debug)]
struct Entry {
    subscriber: Arc<Subscriber>,
    registrations: BTreeMap<u64, Arc<Interest>>,
}

/// Why a routing change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// The subscriber is not (or no longer) connected.
    UnknownSubscriber,
    /// No such registration on this subscriber.
    UnknownRegistration,
}

/// The routing state.
#[derive(Debug)]
pub struct Router {
    nr_cpu_ids: u32,
    snapshot: ArcSwap<RouteTable>,
    registry: Mutex<Registry>,
}

impl Router {
    /// A router for CPUs `0..nr_cpu_ids`.
    pub fn new(nr_cpu_ids: u32) -> Self {
        Router {
            nr_cpu_ids,
            snapshot: ArcSwap::from_pointee(RouteTable::default()),
            registry: Mutex::new(Registry::default()),
        }
    }

    /// The current snapshot, for one event or one batch.
    pub fn load(&self) -> Guard<Arc<RouteTable>> {
        self.snapshot.load()
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a connected subscriber with no registration.
    pub fn add_subscriber(&self, subscriber: Arc<Subscriber>) {
        let mut reg = self.registry();
        reg.subscribers.insert(
            subscriber.id,
            Entry {
                subscriber,
                registrations: BTreeMap::new(),
            },
        );
    }

    /// Removes a subscriber and all its registrations at once (its connection closed,
    /// deregistered or not). Returns how many registrations it had.
    pub fn remove_subscriber(&self, id: u64) -> usize {
        let mut reg = self.registry();
        let removed = reg.subscribers.remove(&id);
        let count = removed.as_ref().map_or(0, |e| e.registrations.len());
        if count > 0 {
            self.publish(&reg);
        }
        count
    }

    /// Adds a registration; returns its id.
    pub fn register(&self, subscriber: u64, interest: Interest) -> Result<u64, RouteError> {
        let mut guard = self.registry();
        let reg = &mut *guard;
        reg.next_registration += 1;
        let id = reg.next_registration;
        let entry = reg
            .subscribers
            .get_mut(&subscriber)
            .ok_or(RouteError::UnknownSubscriber)?;
        entry.registrations.insert(id, Arc::new(interest));
        self.publish(reg);
        Ok(id)
    }

    /// Removes one registration of `subscriber`.
    pub fn deregister(&self, subscriber: u64, registration: u64) -> Result<(), RouteError> {
        let mut reg = self.registry();
        let entry = reg
            .subscribers
            .get_mut(&subscriber)
            .ok_or(RouteError::UnknownSubscriber)?;
        entry
            .registrations
            .remove(&registration)
            .ok_or(RouteError::UnknownRegistration)?;
        self.publish(&reg);
        Ok(())
    }

    /// Registrations `subscriber` holds.
    pub fn registrations_of(&self, subscriber: u64) -> usize {
        self.registry()
            .subscribers
            .get(&subscriber)
            .map_or(0, |e| e.registrations.len())
    }

    /// Every connected subscriber (registered or not), for metrics and shutdown.
    pub fn subscribers(&self) -> Vec<(Arc<Subscriber>, usize)> {
        self.registry()
            .subscribers
            .values()
            .map(|e| (Arc::clone(&e.subscriber), e.registrations.len()))
            .collect()
    }

    fn publish(&self, reg: &Registry) {
        let mut table = RouteTable {
            per_cpu: (0..self.nr_cpu_ids).map(|_| Vec::new()).collect(),
            registered: Vec::new(),
        };
        for entry in reg.subscribers.values() {
            if entry.registrations.is_empty() {
                continue;
            }
            table.registered.push(Arc::clone(&entry.subscriber));
            for (cpu, routes) in table.per_cpu.iter_mut().enumerate() {
                let interests: Vec<Arc<Interest>> = entry
                    .registrations
                    .values()
                    .filter(|i| i.cpus.contains(cpu as u32))
                    .cloned()
                    .collect();
                if !interests.is_empty() {
                    routes.push(Route {
                        subscriber: Arc::clone(&entry.subscriber),
                        interests,
                    });
                }
            }
        }
        self.snapshot.store(Arc::new(table));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Visibility;
    use crate::interest::FilterLimits;
    use crate::machine::Machine;
    use crate::protocol::RegisterRequest;
    use crate::subscriber::Peer;
    use taskwatch_core::cpulist::CpuSet;

    fn interest(cpus: &str) -> Interest {
        let m = Machine {
            nr_cpu_ids: 4,
            nr_cpus_config: 4,
            possible: CpuSet::from_cpus(0..4).unwrap(),
        };
        let r = RegisterRequest {
            cpus: cpus.into(),
            ..RegisterRequest::default()
        };
        Interest::resolve(&r, &m, FilterLimits { max_entries: 8 }).unwrap()
    }

    fn sub(id: u64) -> Arc<Subscriber> {
        let peer = Peer {
            pid: 1,
            uid: 0,
            gid: 0,
        };
        Arc::new(Subscriber::new(id, peer, Visibility::All, 1024))
    }

    fn ids_on(router: &Router, cpu: u32) -> Vec<(u64, usize)> {
        router
            .load()
            .cpu(cpu)
            .iter()
            .map(|r| (r.subscriber.id, r.interests.len()))
            .collect()
    }

    #[test]
    fn interest_is_recorded_per_cpu_and_adds_up() {
        let r = Router::new(4);
        r.add_subscriber(sub(1));
        r.add_subscriber(sub(2));
        let a = r.register(1, interest("0-1")).unwrap();
        r.register(1, interest("1,3")).unwrap();
        r.register(2, interest("2")).unwrap();
        assert_eq!(ids_on(&r, 0), vec![(1, 1)]);
        assert_eq!(ids_on(&r, 1), vec![(1, 2)]);
        assert_eq!(ids_on(&r, 2), vec![(2, 1)]);
        assert_eq!(ids_on(&r, 3), vec![(1, 1)]);
        assert!(r.load().cpu(99).is_empty());
        r.deregister(1, a).unwrap();
        assert_eq!(ids_on(&r, 0), vec![]);
        assert_eq!(r.deregister(1, a), Err(RouteError::UnknownRegistration));
        assert_eq!(r.deregister(2, 99), Err(RouteError::UnknownRegistration));
        assert_eq!(r.remove_subscriber(1), 1);
        assert_eq!(ids_on(&r, 3), vec![]);
        assert_eq!(r.load().registered.len(), 1);
        assert_eq!(
            r.register(1, interest("0")),
            Err(RouteError::UnknownSubscriber)
        );
    }

    #[test]
    fn a_reader_keeps_its_snapshot_while_routes_change() {
        let r = Router::new(2);
        r.add_subscriber(sub(1));
        r.register(1, interest("0")).unwrap();
        let held = r.load();
        r.remove_subscriber(1);
        assert_eq!(held.cpu(0).len(), 1);
        assert!(r.load().cpu(0).is_empty());
    }
}
