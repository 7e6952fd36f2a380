//! CPU isolation: whether a CPU is fit for a latency-critical program, read from /sys and /proc.
//! Each check names what it found and the fix.
