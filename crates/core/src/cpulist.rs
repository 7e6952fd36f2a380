//! CPU sets and the kernel's cpulist syntax ("0-3,8,10-15:2/4"), parsed as strictly as
//! the kernel's bitmap_parselist, and checked against the machine's possible CPUs.
