//! Turning the watched CPU's trace into interruptions with causes, and summing them into
//! the table `isolate run` and `isolate probe` print.

mod cause;
mod state;
mod summary;

pub use cause::{Class, Interruption};
pub use state::{Attributor, TickContext};
pub use summary::{write_timeline_line, Row, Summary};
