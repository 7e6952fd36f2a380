//! The machine's CPUs as the kernel sees them: possible, online and present sets, and
//! nr_cpu_ids, read from /sys/devices/system/cpu.
