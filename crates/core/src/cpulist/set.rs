//! A set of CPU numbers as a bitmap of 64-bit words, like the kernel's cpumask, with the
//! set operations and the two text forms the kernel prints: "0-3,8" and "ff,ffffffff".

use std::fmt;
use std::str::FromStr;

use super::error::{CpuListError, CpuTooLarge};

/// The largest number of CPUs a set holds: 8192 is the largest NR_CPUS any architecture
/// lets a kernel be configured with, so every CPU number the kernel prints fits.
pub const MAX_CPUS: u32 = 8192;

/// A set of CPU numbers below [`MAX_CPUS`].
///
/// `Display` gives the kernel's canonical list ("0-3,8", "" when empty); `FromStr` reads
/// it back with [`parse`](super::parse).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct CpuSet {
    /// Bit `n % 64` of word `n / 64` is CPU `n`. Never ends in a zero word, so equal sets
    /// have equal vectors.
    words: Vec<u64>,
}

impl CpuSet {
    /// The empty set.
    pub fn new() -> CpuSet {
        CpuSet::default()
    }

    /// The set of `cpus`, or the first CPU number that is too large.
    pub fn from_cpus(cpus: impl IntoIterator<Item = u32>) -> Result<CpuSet, CpuTooLarge> {
        let mut set = CpuSet::new();
        for cpu in cpus {
            set.insert(cpu)?;
        }
        Ok(set)
    }

    /// Adds `cpu`; true when it was not there yet. Refuses CPUs at or above [`MAX_CPUS`].
    pub fn insert(&mut self, cpu: u32) -> Result<bool, CpuTooLarge> {
        if cpu >= MAX_CPUS {
            return Err(CpuTooLarge { cpu });
        }
        let (word, bit) = ((cpu / 64) as usize, cpu % 64);
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let was = self.words[word] & (1 << bit) != 0;
        self.words[word] |= 1 << bit;
        Ok(!was)
    }

    /// Removes `cpu`; true when it was there.
    pub fn remove(&mut self, cpu: u32) -> bool {
        let (word, bit) = ((cpu / 64) as usize, cpu % 64);
        let Some(w) = self.words.get_mut(word) else {
            return false;
        };
        let was = *w & (1 << bit) != 0;
        *w &= !(1 << bit);
        self.trim();
        was
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: u32) -> bool {
        let (word, bit) = ((cpu / 64) as usize, cpu % 64);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// The number of CPUs in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// True when no CPU is in the set.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The lowest CPU in the set.
    pub fn first(&self) -> Option<u32> {
        self.iter().next()
    }

    /// The highest CPU in the set (for the possible set, nr_cpu_ids - 1).
    pub fn last(&self) -> Option<u32> {
        let top = self.words.last()?;
        Some((self.words.len() as u32 - 1) * 64 + 63 - top.leading_zeros())
    }

    /// The CPUs in increasing order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            words: &self.words,
            index: 0,
            current: self.words.first().copied().unwrap_or(0),
        }
    }

    /// The CPUs in either set.
    pub fn union(&self, other: &CpuSet) -> CpuSet {
        let (long, short) = if self.words.len() >= other.words.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut words = long.words.clone();
        for (w, o) in words.iter_mut().zip(&short.words) {
            *w |= o;
        }
        CpuSet { words }
    }

    /// The CPUs in both sets.
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        let words = self.words.iter().zip(&other.words).map(|(a, b)| a & b);
        CpuSet::from_words(words.collect())
    }

    /// The CPUs in `self` but not in `other`.
    pub fn difference(&self, other: &CpuSet) -> CpuSet {
        let words = self.words.iter().enumerate().map(|(i, w)| {
            let o = other.words.get(i).copied().unwrap_or(0);
            w & !o
        });
        CpuSet::from_words(words.collect())
    }

    /// True when every CPU of `self` is in `other` (the kernel's cpumask_subset).
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.difference(other).is_empty()
    }

    /// True when no CPU is in both sets.
    pub fn is_disjoint(&self, other: &CpuSet) -> bool {
        self.intersection(other).is_empty()
    }

    /// The hex mask form the kernel prints for an `nbits`-bit cpumask (`%*pb`, as in
    /// /proc/irq/N/smp_affinity): 32-bit chunks, most significant first, separated by
    /// commas, every chunk but the first zero-padded to 8 digits. CPUs at or above
    /// `nbits` are left out.
    pub fn to_hex_mask(&self, nbits: u32) -> String {
        let mut out = String::new();
        let mut chunk_bits = match nbits % 32 {
            0 => 32,
            n => n,
        };
        let mut start = nbits.div_ceil(32) * 32;
        while start >= 32 {
            start -= 32;
            let chunk = self.chunk32(start) & (u32::MAX >> (32 - chunk_bits));
            if !out.is_empty() {
                out.push(',');
            }
            let width = chunk_bits.div_ceil(4) as usize;
            out.push_str(&format!("{chunk:0width$x}"));
            chunk_bits = 32;
        }
        out
    }

    /// The 32 bits starting at CPU `start` (a multiple of 32).
    fn chunk32(&self, start: u32) -> u32 {
        let word = self.words.get((start / 64) as usize).copied().unwrap_or(0);
        (word >> (start % 64)) as u32
    }

    /// Sets CPUs `first..first + count`, a word at a time.
    pub(crate) fn insert_run(&mut self, first: u32, count: u32) -> Result<(), CpuTooLarge> {
        if count == 0 {
            return Ok(());
        }
        let last = first.saturating_add(count - 1);
        if last >= MAX_CPUS {
            return Err(CpuTooLarge {
                cpu: first.max(MAX_CPUS),
            });
        }
        let (first_word, last_word) = ((first / 64) as usize, (last / 64) as usize);
        if self.words.len() <= last_word {
            self.words.resize(last_word + 1, 0);
        }
        for (i, word) in self.words[first_word..=last_word].iter_mut().enumerate() {
            let i = first_word + i;
            let low = if i == first_word { first % 64 } else { 0 };
            let high = if i == last_word { last % 64 } else { 63 };
            *word |= (u64::MAX >> (63 - high)) & (u64::MAX << low);
        }
        Ok(())
    }

    /// A set from 32-bit chunks, chunk `i` holding CPUs `32 * i ..`.
    pub(crate) fn from_chunks32(chunks: &[u32]) -> Result<CpuSet, CpuTooLarge> {
        let mut set = CpuSet::new();
        for (i, &chunk) in chunks.iter().enumerate() {
            let mut bits = chunk;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let cpu = u32::try_from(i)
                    .ok()
                    .and_then(|i| i.checked_mul(32))
                    .and_then(|base| base.checked_add(bit))
                    .unwrap_or(u32::MAX);
                set.insert(cpu)?;
            }
        }
        Ok(set)
    }

    fn from_words(words: Vec<u64>) -> CpuSet {
        let mut set = CpuSet { words };
        set.trim();
        set
    }

    fn trim(&mut self) {
        while self.words.last() == Some(&0) {
            self.words.pop();
        }
    }
}

/// The CPUs of a [`CpuSet`] in increasing order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    words: &'a [u64],
    index: usize,
    current: u64,
}

impl Iterator for Iter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            if self.current != 0 {
                let bit = self.current.trailing_zeros();
                self.current &= self.current - 1;
                return Some(self.index as u32 * 64 + bit);
            }
            self.index += 1;
            self.current = *self.words.get(self.index)?;
        }
    }
}

impl<'a> IntoIterator for &'a CpuSet {
    type Item = u32;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The canonical list: ascending, runs of two or more as "first-last", comma-separated.
impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut cpus = self.iter().peekable();
        let mut first_run = true;
        while let Some(start) = cpus.next() {
            let mut end = start;
            while cpus.peek() == Some(&(end + 1)) {
                end += 1;
                cpus.next();
            }
            if !first_run {
                f.write_str(",")?;
            }
            first_run = false;
            if end == start {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CpuSet({self})")
    }
}

impl FromStr for CpuSet {
    type Err = CpuListError;

    fn from_str(s: &str) -> Result<CpuSet, CpuListError> {
        super::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(cpus: &[u32]) -> CpuSet {
        CpuSet::from_cpus(cpus.iter().copied()).unwrap()
    }

    #[test]
    fn insert_remove_contains() {
        let mut s = CpuSet::new();
        assert!(s.is_empty());
        assert_eq!(s.insert(70), Ok(true));
        assert_eq!(s.insert(70), Ok(false));
        assert_eq!(s.insert(MAX_CPUS), Err(CpuTooLarge { cpu: MAX_CPUS }));
        assert!(s.contains(70) && !s.contains(6) && !s.contains(u32::MAX));
        assert_eq!((s.len(), s.first(), s.last()), (1, Some(70), Some(70)));
        assert!(s.remove(70));
        assert!(!s.remove(70) && !s.remove(u32::MAX));
        assert_eq!(s, CpuSet::new(), "removing the top CPU trims the words");
    }

    #[test]
    fn runs() {
        let mut s = CpuSet::new();
        s.insert_run(60, 70).unwrap();
        assert_eq!(s, CpuSet::from_cpus(60..130).unwrap());
        s.insert_run(3, 0).unwrap();
        s.insert_run(0, 1).unwrap();
        assert_eq!(s.to_string(), "0,60-129");
        assert_eq!(s.insert_run(8190, 5), Err(CpuTooLarge { cpu: MAX_CPUS }));
        assert_eq!(s.insert_run(9000, 1), Err(CpuTooLarge { cpu: 9000 }));
    }

    #[test]
    fn set_operations() {
        let a = set(&[0, 1, 2, 64, 130]);
        let b = set(&[2, 3, 130]);
        assert_eq!(a.union(&b), set(&[0, 1, 2, 3, 64, 130]));
        assert_eq!(b.union(&a), a.union(&b));
        assert_eq!(a.intersection(&b), set(&[2, 130]));
        assert_eq!(a.difference(&b), set(&[0, 1, 64]));
        assert_eq!(b.difference(&a), set(&[3]));
        assert!(set(&[2, 130]).is_subset(&a) && !b.is_subset(&a));
        assert!(set(&[5]).is_disjoint(&a) && !b.is_disjoint(&a));
        assert_eq!(a.iter().collect::<Vec<_>>(), [0, 1, 2, 64, 130]);
        assert_eq!(a.last(), Some(130));
    }

    #[test]
    fn display_is_the_canonical_list() {
        assert_eq!(CpuSet::new().to_string(), "");
        assert_eq!(set(&[0, 1, 2, 3, 8]).to_string(), "0-3,8");
        assert_eq!(set(&[1, 3, 4, 63, 64, 65]).to_string(), "1,3-4,63-65");
        assert_eq!(format!("{:?}", set(&[5])), "CpuSet(5)");
    }

    #[test]
    fn hex_mask_matches_the_kernel() {
        assert_eq!(set(&[0, 1]).to_hex_mask(2), "3");
        assert_eq!(set(&[0]).to_hex_mask(8), "01");
        assert_eq!(set(&[0, 33]).to_hex_mask(40), "02,00000001");
        assert_eq!(set(&[0, 1]).to_hex_mask(64), "00000000,00000003");
        assert_eq!(
            set(&[4]).to_hex_mask(4),
            "0",
            "CPUs beyond nbits are left out"
        );
        assert_eq!(set(&[4]).to_hex_mask(0), "");
    }
}
