//! The features of `taskwatch watch`, each a task watcher in its own module, registered in
//! one line and unknown to the dispatcher.

pub mod audit;
pub mod exits;
pub mod human;
pub mod json;
pub mod recorder;
pub mod stats;
