//! cpulist and hex mask parsing against the kernel's bitmap_parselist / bitmap_parse
//! (lib/bitmap-str.c): what each accepts, each error path with its errno and message,
//! the taskstats registration checks in the kernel's order, and the round trips.

use taskwatch_core::cpulist::{
    parse, parse_bounded, parse_mask, parse_mask_bounded, taskstats_max_len,
    validate_for_taskstats, CpuListError, CpuSet, CpuTooLarge, Errno, MAX_CPUS,
};

fn set(cpus: &[u32]) -> CpuSet {
    CpuSet::from_cpus(cpus.iter().copied()).unwrap()
}

fn range(first: u32, last: u32) -> CpuSet {
    CpuSet::from_cpus(first..=last).unwrap()
}

fn garbage(position: usize, found: Option<char>, expected: &'static str) -> CpuListError {
    CpuListError::Garbage {
        position,
        found,
        expected,
    }
}

// ---- the list syntax: what the kernel accepts ----

#[test]
fn plain_lists() {
    assert_eq!(parse("0-3,8").unwrap(), set(&[0, 1, 2, 3, 8]));
    assert_eq!(parse("5").unwrap(), set(&[5]));
    assert_eq!(
        parse("007").unwrap(),
        set(&[7]),
        "leading zeros are decimal"
    );
    assert_eq!(parse("3-3").unwrap(), set(&[3]));
    assert_eq!(
        parse("8,0-3,2").unwrap(),
        set(&[0, 1, 2, 3, 8]),
        "any order, overlaps"
    );
}

#[test]
fn empty_text_is_the_empty_set() {
    for text in ["", "\n", ",", " , \t,", "\0"] {
        assert_eq!(parse(text).unwrap(), CpuSet::new(), "{text:?}");
    }
}

#[test]
fn whitespace_and_commas_separate_regions() {
    assert_eq!(parse("  0 , 2\t").unwrap(), set(&[0, 2]));
    assert_eq!(parse(",,1,,").unwrap(), set(&[1]));
    assert_eq!(parse("1 2\t3\r4\x0b5\x0c6").unwrap(), range(1, 6));
}

#[test]
fn a_newline_ending_a_region_ends_the_text() {
    // What /sys files and `echo` produce.
    assert_eq!(parse("0-1\n").unwrap(), set(&[0, 1]));
    // end_of_str() after a number stops the parse: the rest is ignored...
    assert_eq!(parse("0\n5").unwrap(), set(&[0]));
    assert_eq!(parse("0-1\nx").unwrap(), set(&[0, 1]));
    // ...but a newline met while skipping separators is just whitespace.
    assert_eq!(parse("0,\n5").unwrap(), set(&[0, 5]));
    assert_eq!(parse("\n5").unwrap(), set(&[5]));
    // NUL ends a C string.
    assert_eq!(parse("0\u{0}5").unwrap(), set(&[0]));
}

#[test]
fn groups() {
    // The example in bitmap_parselist's comment.
    assert_eq!(
        parse("0-1023:2/256").unwrap(),
        set(&[0, 1, 256, 257, 512, 513, 768, 769])
    );
    assert_eq!(parse("9-38:4/10").unwrap().to_string(), "9-12,19-22,29-32");
    assert_eq!(parse("0-7:1/2").unwrap(), set(&[0, 2, 4, 6]));
    assert_eq!(parse("0-3:0/2").unwrap(), CpuSet::new(), "0 used per group");
    assert_eq!(parse("0-5:3/3").unwrap(), range(0, 5), "used == group");
}

#[test]
fn all_and_n_name_the_last_bit() {
    assert_eq!(parse_bounded("all", 4).unwrap(), range(0, 3));
    assert_eq!(parse_bounded("ALL", 4).unwrap(), range(0, 3));
    assert_eq!(parse_bounded("aLl:1/2", 8).unwrap(), set(&[0, 2, 4, 6]));
    assert_eq!(parse_bounded("N", 4).unwrap(), set(&[3]));
    assert_eq!(parse_bounded("1-N", 4).unwrap(), range(1, 3));
    assert_eq!(parse_bounded("0-N:N/N", 3).unwrap(), range(0, 2));
    // Unbounded, the bitmap is MAX_CPUS wide.
    assert_eq!(parse("all").unwrap().len(), MAX_CPUS as usize);
    assert_eq!(parse("N").unwrap(), set(&[MAX_CPUS - 1]));
}

#[test]
fn after_a_group_the_next_region_needs_no_separator() {
    // bitmap_parse_region returns right after the group size without checking the next
    // character: "N" then starts a region of its own.
    assert_eq!(parse_bounded("0-3:1/2N", 8).unwrap(), set(&[0, 2, 7]));
    // A character that cannot start a region is still refused, where it stands.
    assert_eq!(
        parse("0-3:1/2x").unwrap_err(),
        garbage(7, Some('x'), "a CPU number")
    );
}

#[test]
fn wrapping_group_arithmetic_is_the_kernels() {
    // start += group_len wraps in 32 bits: from CPU 1 with group 2^32 - 1 the next group
    // starts at CPU 0.
    assert_eq!(parse("1-5:1/4294967295").unwrap(), set(&[0, 1]));
}

// ---- the list syntax: every error, with the kernel's errno ----

#[test]
fn garbage_where_a_number_belongs() {
    let e = parse("x").unwrap_err();
    assert_eq!(e, garbage(0, Some('x'), "a CPU number"));
    assert_eq!(
        e.to_string(),
        "garbage 'x' at position 0: expected a CPU number"
    );
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));

    assert_eq!(
        parse("-1").unwrap_err(),
        garbage(0, Some('-'), "a CPU number")
    );
    assert_eq!(
        parse("+1").unwrap_err(),
        garbage(0, Some('+'), "a CPU number")
    );
    assert_eq!(
        parse("0x1").unwrap_err(),
        garbage(1, Some('x'), "',' or '-'")
    );
    assert_eq!(
        parse("1,é").unwrap_err(),
        garbage(2, Some('é'), "a CPU number")
    );
    // NBSP is whitespace to the kernel only as the Latin-1 byte 0xa0; in UTF-8 its lead
    // byte 0xc2 comes first and is garbage.
    assert_eq!(
        parse("1\u{a0}2").unwrap_err(),
        garbage(1, Some('\u{a0}'), "',' or '-'")
    );
}

#[test]
fn garbage_after_a_number() {
    let e = parse("0,1x").unwrap_err();
    assert_eq!(e, garbage(3, Some('x'), "',' or '-'"));
    assert_eq!(
        e.to_string(),
        "garbage 'x' at position 3: expected ',' or '-'"
    );
    assert_eq!(
        parse("5:1/2").unwrap_err(),
        garbage(1, Some(':'), "',' or '-'"),
        "a group needs a range"
    );
    assert_eq!(
        parse("1-3x").unwrap_err(),
        garbage(3, Some('x'), "',' or ':'")
    );
    assert_eq!(
        parse("allx").unwrap_err(),
        garbage(3, Some('x'), "',' or ':'")
    );
    assert_eq!(
        parse("all-3").unwrap_err(),
        garbage(3, Some('-'), "',' or ':'")
    );
    assert_eq!(
        parse("1N").unwrap_err(),
        garbage(1, Some('N'), "',' or '-'")
    );
}

#[test]
fn text_ending_early() {
    let e = parse("0-").unwrap_err();
    assert_eq!(e, garbage(2, None, "a CPU number"));
    assert_eq!(
        e.to_string(),
        "text ends early at position 2: expected a CPU number"
    );
    assert_eq!(parse("0-3:1").unwrap_err(), garbage(5, None, "'/'"));
    assert_eq!(parse("0-3:1x").unwrap_err(), garbage(5, Some('x'), "'/'"));
    assert_eq!(parse("0-3:").unwrap_err(), garbage(4, None, "a CPU number"));
    assert_eq!(
        parse("0-3:1/").unwrap_err(),
        garbage(6, None, "a CPU number")
    );
    // A newline ends the text as much as its end does.
    assert_eq!(
        parse("0-\n3").unwrap_err(),
        garbage(2, Some('\n'), "a CPU number")
    );
}

#[test]
fn backwards_range() {
    let e = parse("5-3").unwrap_err();
    assert_eq!(e, CpuListError::Backwards { first: 5, last: 3 });
    assert_eq!(
        e.to_string(),
        "range 5-3 is backwards: write the lower CPU first (3-5)"
    );
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));
    // The shape is checked before the range: EINVAL wins over ERANGE.
    assert_eq!(
        parse_bounded("9-7", 2).unwrap_err(),
        CpuListError::Backwards { first: 9, last: 7 }
    );
}

#[test]
fn bad_groups() {
    let e = parse("0-3:0/0").unwrap_err();
    assert_eq!(e, CpuListError::BadGroup { used: 0, group: 0 });
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));
    assert!(e.to_string().contains("must be at least 1"), "{e}");
    let e = parse("0-3:3/2").unwrap_err();
    assert_eq!(e, CpuListError::BadGroup { used: 3, group: 2 });
    assert_eq!(
        e.to_string(),
        "':3/2' uses 3 CPUs of every group of 2: the number before '/' must be at most \
         the one after"
    );
    assert_eq!(
        parse_bounded("0-9:3/2", 4).unwrap_err(),
        CpuListError::BadGroup { used: 3, group: 2 },
        "EINVAL before ERANGE"
    );
}

#[test]
fn numbers_over_32_bits() {
    let e = parse("1,4294967296").unwrap_err();
    assert_eq!(e, CpuListError::NumberTooLarge { position: 2 });
    assert_eq!(e.kernel_errno(), Some(Errno::Eoverflow));
    assert!(e
        .to_string()
        .starts_with("the number at position 2 does not fit in 32 bits"));
    assert_eq!(
        parse("0-99999999999999999999999999").unwrap_err(),
        CpuListError::NumberTooLarge { position: 2 }
    );
    assert_eq!(
        parse("0-3:1/4294967296").unwrap_err(),
        CpuListError::NumberTooLarge { position: 6 }
    );
}

#[test]
fn the_last_u32_wraps_the_kernels_group_size() {
    // No suffix: group_len = end + 1 = 0, refused as EINVAL before the range check.
    let e = parse_bounded("4294967295", 2).unwrap_err();
    assert_eq!(e, CpuListError::WrapsAround { cpu: u32::MAX });
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));
    // With a suffix the group size is explicit, and the range check answers.
    assert_eq!(
        parse_bounded("4294967295-4294967295:1/1", 2).unwrap_err(),
        CpuListError::OutOfRange {
            cpu: u32::MAX,
            nr_cpu_ids: 2
        }
    );
}

#[test]
fn cpu_out_of_range() {
    let e = parse_bounded("0,7", 2).unwrap_err();
    assert_eq!(
        e,
        CpuListError::OutOfRange {
            cpu: 7,
            nr_cpu_ids: 2
        }
    );
    assert_eq!(e.kernel_errno(), Some(Errno::Erange));
    assert_eq!(
        e.to_string(),
        "CPU 7 is out of range: this machine has CPUs 0-1 (nr_cpu_ids 2)"
    );
    assert_eq!(
        parse_bounded("1", 1).unwrap_err().to_string(),
        "CPU 1 is out of range: this machine has CPU 0 (nr_cpu_ids 1)"
    );
    // The range's end is checked, even when the group leaves it unset.
    assert_eq!(
        parse_bounded("0-7:1/4", 4).unwrap_err(),
        CpuListError::OutOfRange {
            cpu: 7,
            nr_cpu_ids: 4
        }
    );
    assert_eq!(parse_bounded("0-1", 2).unwrap(), set(&[0, 1]));
}

#[test]
fn cpu_above_max_cpus() {
    let e = parse("0,8192").unwrap_err();
    assert_eq!(e, CpuListError::TooLarge { cpu: 8192 });
    assert_eq!(e.kernel_errno(), Some(Errno::Erange));
    assert_eq!(
        e.to_string(),
        "CPU 8192 is out of range: Linux supports at most 8192 CPUs (0-8191)"
    );
    assert_eq!(parse("8191").unwrap(), set(&[8191]));
    // A bound above MAX_CPUS still cannot store more.
    assert_eq!(
        parse_bounded("9000", 10_000).unwrap_err(),
        CpuListError::TooLarge { cpu: 9000 }
    );
    assert_eq!(
        "8192".parse::<CpuSet>(),
        Err(CpuListError::TooLarge { cpu: 8192 })
    );
}

#[test]
fn one_bad_region_refuses_the_whole_list() {
    assert!(parse("0,1,2,x").is_err());
    assert!(parse_bounded("0,1,2", 2).is_err());
}

// ---- the hex mask syntax ----

#[test]
fn masks() {
    assert_eq!(parse_mask("3").unwrap(), set(&[0, 1]));
    assert_eq!(parse_mask("3\n").unwrap(), set(&[0, 1]));
    assert_eq!(parse_mask("ff,ffffffff").unwrap(), range(0, 39));
    assert_eq!(parse_mask("FF,FFFFFFFF").unwrap(), range(0, 39));
    assert_eq!(parse_mask("00000000,00000003").unwrap(), set(&[0, 1]));
    assert_eq!(parse_mask("80000000").unwrap(), set(&[31]));
    // Empty chunks are allowed; whitespace separates chunks too.
    assert_eq!(parse_mask("1,,5").unwrap(), set(&[0, 2, 32]));
    assert_eq!(parse_mask("1 5").unwrap(), set(&[0, 2, 32]));
    assert_eq!(parse_mask(",44").unwrap(), set(&[2, 6]));
    for empty in ["", ",", " \t ", "\n", "\nff"] {
        assert_eq!(parse_mask(empty).unwrap(), CpuSet::new(), "{empty:?}");
    }
}

#[test]
fn mask_quirk_one_character_before_eight_digits_is_skipped() {
    assert_eq!(
        parse_mask("x12345678").unwrap(),
        parse_mask("12345678").unwrap()
    );
    assert_eq!(
        parse_mask("1,x00000001").unwrap(),
        set(&[0, 32]),
        "the skipped character was the chunk's separator"
    );
}

#[test]
fn mask_errors() {
    let e = parse_mask("3g").unwrap_err();
    assert_eq!(e, garbage(1, Some('g'), "a hex digit or ','"));
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));
    assert_eq!(
        parse_mask("0x3").unwrap_err(),
        garbage(1, Some('x'), "a hex digit or ','")
    );
    assert_eq!(
        parse_mask("é1").unwrap_err(),
        garbage(0, Some('é'), "a hex digit or ','"),
        "positions name a character's first byte"
    );

    let e = parse_mask("123456789").unwrap_err();
    assert_eq!(e, CpuListError::MaskChunkTooLong { position: 0 });
    assert_eq!(e.kernel_errno(), Some(Errno::Eoverflow));
    assert!(e
        .to_string()
        .contains("separate every 32 bits with a comma"));

    // Bits at or above nbits, or more chunks than nbits needs.
    let e = parse_mask_bounded("4", 2).unwrap_err();
    assert_eq!(e, CpuListError::MaskTooWide { nbits: 2 });
    assert_eq!(e.kernel_errno(), Some(Errno::Eoverflow));
    assert_eq!(parse_mask_bounded("3", 2).unwrap(), set(&[0, 1]));
    assert_eq!(
        parse_mask_bounded("1,00000000", 32).unwrap_err(),
        CpuListError::MaskTooWide { nbits: 32 }
    );
    assert_eq!(
        parse_mask_bounded("0,00000001", 32).unwrap_err(),
        CpuListError::MaskTooWide { nbits: 32 },
        "a zero chunk still counts"
    );
    assert_eq!(parse_mask_bounded("ffffffff", 32).unwrap(), range(0, 31));
    assert_eq!(
        parse_mask_bounded("1", 0).unwrap_err(),
        CpuListError::MaskTooWide { nbits: 0 }
    );
}

// ---- taskstats registration ----

fn two_cpus() -> CpuSet {
    range(0, 1)
}

#[test]
fn taskstats_accepts_what_the_kernel_accepts() {
    assert_eq!(
        validate_for_taskstats("0-1", 2, 256, &two_cpus()).unwrap(),
        two_cpus()
    );
    assert_eq!(
        validate_for_taskstats("1\n", 2, 256, &two_cpus()).unwrap(),
        set(&[1])
    );
    assert_eq!(
        validate_for_taskstats("all", 2, 256, &two_cpus()).unwrap(),
        two_cpus()
    );
}

#[test]
fn taskstats_length_limit_counts_the_nul() {
    assert_eq!(taskstats_max_len(2), 112);
    assert_eq!(taskstats_max_len(8192), 49252);
    // 111 bytes of text plus the NUL is 112: accepted.
    let longest = format!("{}1", "0,".repeat(55));
    assert_eq!(longest.len(), 111);
    assert_eq!(
        validate_for_taskstats(&longest, 2, 2, &two_cpus()).unwrap(),
        two_cpus()
    );
    let e = validate_for_taskstats(&format!("{longest},"), 2, 2, &two_cpus()).unwrap_err();
    assert_eq!(
        e,
        CpuListError::TooLong {
            len: 112,
            max: 111,
            nr_cpus: 2
        }
    );
    assert_eq!(e.kernel_errno(), Some(Errno::E2big));

    let e = validate_for_taskstats(&"0,".repeat(406), 2, 2, &two_cpus()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cpulist is 812 bytes, the kernel accepts at most 111 here"),
        "{e}"
    );
    // The length is checked first: even garbage is E2BIG when long.
    assert!(matches!(
        validate_for_taskstats(&"x".repeat(200), 2, 2, &two_cpus()),
        Err(CpuListError::TooLong { len: 200, .. })
    ));
}

#[test]
fn taskstats_parse_errors_pass_through() {
    let e = validate_for_taskstats("7", 2, 256, &two_cpus()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CPU 7 is out of range: this machine has CPUs 0-1 (nr_cpu_ids 2)"
    );
    assert_eq!(
        validate_for_taskstats("0,x", 2, 256, &two_cpus()).unwrap_err(),
        garbage(2, Some('x'), "a CPU number")
    );
}

#[test]
fn taskstats_cpus_must_be_possible() {
    // Possible CPUs with a hole: nr_cpu_ids is 6, but 2 and 3 cannot exist.
    let possible = set(&[0, 1, 4, 5]);
    let e = validate_for_taskstats("1-3", 6, 256, &possible).unwrap_err();
    assert_eq!(
        e,
        CpuListError::NotPossible {
            cpus: set(&[2, 3]),
            possible: possible.clone()
        }
    );
    assert_eq!(e.kernel_errno(), Some(Errno::Einval));
    assert_eq!(
        e.to_string(),
        "CPUs 2-3 are not possible on this machine: its possible CPUs are 0-1,4-5"
    );
    assert_eq!(
        validate_for_taskstats("2", 6, 256, &possible)
            .unwrap_err()
            .to_string(),
        "CPU 2 is not possible on this machine: its possible CPUs are 0-1,4-5"
    );
    // The range check (in the parse) comes before the possible check.
    assert!(matches!(
        validate_for_taskstats("2,9", 6, 256, &possible),
        Err(CpuListError::OutOfRange { cpu: 9, .. })
    ));
    assert_eq!(
        validate_for_taskstats("0-1,4-N", 6, 256, &possible).unwrap(),
        possible
    );
}

#[test]
fn taskstats_empty_list_is_refused_though_the_kernel_takes_it() {
    for text in ["", "\n", " , "] {
        let e = validate_for_taskstats(text, 2, 256, &two_cpus()).unwrap_err();
        assert_eq!(e, CpuListError::Empty, "{text:?}");
        assert_eq!(e.kernel_errno(), None);
    }
    assert!(CpuListError::Empty.to_string().starts_with("empty cpulist"));
}

// ---- round trips ----

/// xorshift64: deterministic sets without a dependency.
fn random_sets() -> impl Iterator<Item = CpuSet> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..300).map(move |i| {
        let span = [8, 64, 200, 1024, MAX_CPUS][i % 5];
        let density = next() % 100;
        let mut s = CpuSet::new();
        for cpu in 0..span {
            if next() % 100 < density {
                s.insert(cpu).unwrap();
            }
        }
        s
    })
}

#[test]
fn list_round_trip() {
    for s in random_sets() {
        let text = s.to_string();
        assert_eq!(parse(&text).unwrap(), s, "{text}");
        assert_eq!(parse(&format!("{text}\n")).unwrap(), s);
    }
    // Display is canonical: any spelling of a set prints the same.
    for (text, canonical) in [
        ("8,0-3,2", "0-3,8"),
        ("0,1,2,3", "0-3"),
        ("1-1,3", "1,3"),
        ("0-7:2/4", "0-1,4-5"),
        ("", ""),
    ] {
        assert_eq!(parse(text).unwrap().to_string(), canonical);
    }
}

#[test]
fn mask_round_trip() {
    for s in random_sets() {
        let mask = s.to_hex_mask(MAX_CPUS);
        assert_eq!(parse_mask(&mask).unwrap(), s, "{mask}");
        let nbits = s.last().map_or(1, |l| l + 1);
        let short = s.to_hex_mask(nbits);
        assert_eq!(parse_mask_bounded(&short, nbits).unwrap(), s, "{short}");
    }
}

#[test]
fn cpu_set_refuses_cpus_it_cannot_hold() {
    assert_eq!(CpuSet::from_cpus([1, 8192]), Err(CpuTooLarge { cpu: 8192 }));
    assert_eq!(
        CpuListError::from(CpuTooLarge { cpu: 9000 }),
        CpuListError::TooLarge { cpu: 9000 }
    );
}

#[test]
fn errno_names_and_numbers() {
    let all = [Errno::E2big, Errno::Einval, Errno::Erange, Errno::Eoverflow];
    let names: Vec<_> = all.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["E2BIG", "EINVAL", "ERANGE", "EOVERFLOW"]);
    let codes: Vec<_> = all.iter().map(|e| e.code()).collect();
    assert_eq!(codes, [7, 22, 34, 75]);
}

// ---- observed on the live kernel ----

/// Written to a cgroup v1 `cpuset.cpus` (cpulist_parse) on Linux 6.18 with nr_cpu_ids 2;
/// `Ok` is what the file read back, `Err` the errno of the write.
#[test]
fn matches_what_linux_6_18_cpuset_cpus_did() {
    let observed: &[(&str, Result<&str, Errno>)] = &[
        ("0-1", Ok("0-1")),
        ("1", Ok("1")),
        ("\n5", Err(Errno::Erange)),
        ("0\n5", Ok("0")),
        ("0,\n1", Ok("0-1")),
        ("1-1:1/4294967295", Ok("0-1")),
        ("x", Err(Errno::Einval)),
        ("0x1", Err(Errno::Einval)),
        ("5-3", Err(Errno::Einval)),
        ("0-3:0/0", Err(Errno::Einval)),
        ("0-1:3/2", Err(Errno::Einval)),
        ("4294967296", Err(Errno::Eoverflow)),
        ("4294967295", Err(Errno::Einval)),
        ("2", Err(Errno::Erange)),
        ("0-1:1/2N", Ok("0-1")),
        ("0-1:1/2x", Err(Errno::Einval)),
        ("allx", Err(Errno::Einval)),
        ("all", Ok("0-1")),
        ("ALL:1/1", Ok("0-1")),
        ("N", Ok("1")),
        ("1N", Err(Errno::Einval)),
        ("0-\n1", Err(Errno::Einval)),
        ("1-N", Ok("1")),
        ("0-1:0/1", Ok("")),
    ];
    for &(text, kernel) in observed {
        let ours = parse_bounded(text, 2);
        match kernel {
            Ok(list) => assert_eq!(ours.unwrap().to_string(), list, "{text:?}"),
            Err(errno) => assert_eq!(ours.unwrap_err().kernel_errno(), Some(errno), "{text:?}"),
        }
    }
}

/// Written to /proc/irq/default_smp_affinity (bitmap_parse) on Linux 6.18 with
/// nr_cpu_ids 2.
#[test]
fn matches_what_linux_6_18_default_smp_affinity_did() {
    let observed: &[(&str, Result<&str, Errno>)] = &[
        ("3", Ok("0-1")),
        ("x00000003", Ok("0-1")),
        ("00000003", Ok("0-1")),
        (" 3 ", Ok("0-1")),
        ("3\n7", Ok("0-1")),
        ("3g", Err(Errno::Einval)),
        ("0x3", Err(Errno::Einval)),
        ("123456789", Err(Errno::Eoverflow)),
        ("4", Err(Errno::Eoverflow)),
        ("1,00000003", Err(Errno::Eoverflow)),
        ("0,00000003", Err(Errno::Eoverflow)),
        ("1 3", Err(Errno::Eoverflow)),
    ];
    for &(text, kernel) in observed {
        let ours = parse_mask_bounded(text, 2);
        match kernel {
            Ok(list) => assert_eq!(ours.unwrap().to_string(), list, "{text:?}"),
            Err(errno) => assert_eq!(ours.unwrap_err().kernel_errno(), Some(errno), "{text:?}"),
        }
    }
}

// ---- any text ----

/// Random strings over the grammar's own characters (and a few others): the parsers
/// answer every one without panicking, and what they accept prints and reads back.
#[test]
fn any_text_gets_an_answer() {
    const ALPHABET: &[&str] = &[
        "0",
        "1",
        "2",
        "7",
        "9",
        "31",
        "63",
        "64",
        "4294967295",
        "-",
        ",",
        ":",
        "/",
        "N",
        "all",
        " ",
        "\n",
        "\t",
        "\0",
        "x",
        "f",
        "F",
        "é",
        "\u{a0}",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = next() % 12;
        let text: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        if let Ok(set) = parse(&text) {
            assert_eq!(parse(&set.to_string()).unwrap(), set, "{text:?}");
        }
        let nbits = (next() % 100) as u32 + 1;
        if let Ok(set) = parse_bounded(&text, nbits) {
            assert!(set.last().is_none_or(|l| l < nbits), "{text:?}");
        }
        if let Ok(set) = parse_mask_bounded(&text, nbits) {
            assert!(set.last().is_none_or(|l| l < nbits), "{text:?}");
            assert_eq!(parse_mask(&set.to_hex_mask(nbits)).unwrap(), set);
        }
        let _ = validate_for_taskstats(&text, nbits, 256, &range(0, nbits - 1));
    }
}

#[test]
fn wrapping_groups_walking_back_over_every_cpu_stay_fast() {
    // start 8191, group 2^32 - 1: the kernel's loop visits 8191, 8190, ..., 0.
    let start = std::time::Instant::now();
    let set = parse("8191-8191:4294967295/4294967295").unwrap();
    assert_eq!(set.len(), MAX_CPUS as usize);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
