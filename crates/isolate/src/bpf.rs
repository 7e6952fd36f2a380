//! The two seccomp programs of strict mode, in classic BPF: the supervised one (every
//! call goes to the supervisor) and the in-process one (violations trap).

use taskwatch_kernel::task_control::{BpfInstruction, HandlerCalls};
use taskwatch_wire::syscalls;

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_RET_K: u16 = 0x06;

/// `struct seccomp_data` offsets.
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg_low(index: u32) -> u32 {
    16 + 8 * index
}
fn arg_high(index: u32) -> u32 {
    20 + 8 * index
}

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// x32 system calls have this bit in their number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_USER_NOTIF: u32 = 0x7fc0_0000;

fn load(offset: u32) -> BpfInstruction {
    BpfInstruction {
        code: BPF_LD_W_ABS,
        jt: 0,
        jf: 0,
        k: offset,
    }
}

fn jump_eq(value: u32, jt: u8, jf: u8) -> BpfInstruction {
    BpfInstruction {
        code: BPF_JEQ_K,
        jt,
        jf,
        k: value,
    }
}

fn ret(action: u32) -> BpfInstruction {
    BpfInstruction {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: action,
    }
}

/// Kills the process on any other ABI than x86_64 (whose numbers the rest assumes), and
/// on x32 calls; leaves the call number loaded.
fn x86_64_only() -> Vec<BpfInstruction> {
    vec![
        load(ARCH),
        jump_eq(AUDIT_ARCH_X86_64, 1, 0),
        ret(RET_KILL_PROCESS),
        load(NR),
        BpfInstruction {
            code: BPF_JGE_K,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        ret(RET_KILL_PROCESS),
    ]
}

/// For `isolate run`: every system call goes to the supervisor, except `sendmsg` on
/// `status_fd` (the child's report socket, used before exec while the supervisor may not
/// yet be answering).
pub fn supervised(status_fd: i32) -> Vec<BpfInstruction> {
    let mut program = x86_64_only();
    program.extend([
        jump_eq(syscalls::SENDMSG as u32, 0, 3),
        load(arg_low(0)),
        jump_eq(status_fd as u32, 0, 1),
        ret(RET_ALLOW),
        ret(RET_USER_NOTIF),
    ]);
    program
}

/// For `isolation::enter`: prctl, exit, exit_group and rt_sigreturn run; the handler's
/// `write(2, report, ...)` and `tgkill(tgid, _, signal)` run; everything else traps.
pub fn strict(calls: HandlerCalls) -> Vec<BpfInstruction> {
    let mut program = x86_64_only();
    for nr in [
        syscalls::PRCTL,
        syscalls::EXIT,
        syscalls::EXIT_GROUP,
        syscalls::RT_SIGRETURN,
    ] {
        program.push(jump_eq(nr as u32, 0, 1));
        program.push(ret(RET_ALLOW));
    }
    // write(2, report_address, _); any other call goes on to the tgkill test.
    program.extend([
        jump_eq(syscalls::WRITE as u32, 0, 8),
        load(arg_low(0)),
        jump_eq(2, 0, 5),
        load(arg_low(1)),
        jump_eq(calls.report_address as u32, 0, 3),
        load(arg_high(1)),
        jump_eq((calls.report_address >> 32) as u32, 0, 1),
        ret(RET_ALLOW),
        ret(RET_TRAP),
    ]);
    program.extend([
        load(NR),
        jump_eq(syscalls::TGKILL as u32, 0, 5),
        load(arg_low(0)),
        jump_eq(calls.tgid as u32, 0, 3),
        load(arg_low(2)),
        jump_eq(calls.signal as u32, 0, 1),
        ret(RET_ALLOW),
        ret(RET_TRAP),
    ]);
    program
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the subset used here, to check the programs' logic.
    fn run(program: &[BpfInstruction], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let ins = program[pc];
            pc += 1;
            match ins.code {
                BPF_LD_W_ABS => {
                    let k = ins.k as usize;
                    acc = u32::from_ne_bytes(data[k..k + 4].try_into().unwrap());
                }
                BPF_JEQ_K => pc += usize::from(if acc == ins.k { ins.jt } else { ins.jf }),
                BPF_JGE_K => pc += usize::from(if acc >= ins.k { ins.jt } else { ins.jf }),
                BPF_RET_K => return ins.k,
                other => panic!("opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn supervised_notifies_all_but_the_status_sendmsg() {
        let p = supervised(5);
        let x86 = AUDIT_ARCH_X86_64;
        assert_eq!(run(&p, x86, 1, [1, 0, 6, 0, 0, 0]), RET_USER_NOTIF);
        assert_eq!(run(&p, x86, 157, [48, 1, 0, 0, 0, 0]), RET_USER_NOTIF);
        assert_eq!(run(&p, x86, 46, [5, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(run(&p, x86, 46, [6, 0, 0, 0, 0, 0]), RET_USER_NOTIF);
        assert_eq!(run(&p, 0x4000_0003, 1, [0; 6]), RET_KILL_PROCESS);
        assert_eq!(run(&p, x86, X32_SYSCALL_BIT | 1, [0; 6]), RET_KILL_PROCESS);
    }

    #[test]
    fn strict_allows_only_the_exits_prctl_and_the_handlers_calls() {
        let calls = HandlerCalls {
            tgid: 1234,
            signal: 9,
            report_address: 0x5555_0000_1000,
        };
        let p = strict(calls);
        let x86 = AUDIT_ARCH_X86_64;
        for nr in [157, 60, 231, 15] {
            assert_eq!(run(&p, x86, nr, [0; 6]), RET_ALLOW, "nr {nr}");
        }
        assert_eq!(run(&p, x86, 1, [1, 0x5555_0000_1000, 9, 0, 0, 0]), RET_TRAP);
        assert_eq!(
            run(&p, x86, 1, [2, 0x5555_0000_1000, 9, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(run(&p, x86, 1, [2, 0x5556_0000_1000, 9, 0, 0, 0]), RET_TRAP);
        assert_eq!(run(&p, x86, 1, [2, 0x5555_0000_1001, 9, 0, 0, 0]), RET_TRAP);
        assert_eq!(run(&p, x86, 234, [1234, 1235, 9, 0, 0, 0]), RET_ALLOW);
        assert_eq!(run(&p, x86, 234, [1, 1235, 9, 0, 0, 0]), RET_TRAP);
        assert_eq!(run(&p, x86, 234, [1234, 1235, 15, 0, 0, 0]), RET_TRAP);
        assert_eq!(run(&p, x86, 39, [0; 6]), RET_TRAP);
        assert_eq!(run(&p, x86, 0, [0; 6]), RET_TRAP);
    }
}
