//! A bounds-checked reader over borrowed bytes.

use super::Error;

/// Reads big-endian integers and length-prefixed vectors from a byte slice without ever
/// indexing out of bounds.
///
/// A short read fails with [`Error::Malformed`] (`what: "truncated"`) at the offset where the
/// read started; [`Reader::finish`] fails with `"trailing bytes"`. Offsets are absolute: a
/// sub-reader made by [`Reader::sub_u16`] and friends reports positions in the original input,
/// so parse errors point into the buffer the caller passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at offset 0.
    #[inline]
    pub const fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf, offset: 0 }
    }

    /// A reader over `buf`, whose first byte is reported as being at `offset`.
    #[inline]
    pub const fn with_offset(buf: &'a [u8], offset: usize) -> Self {
        Self { rest: buf, offset }
    }

    /// The offset of the next byte to be read.
    #[inline]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// How many bytes are left.
    #[inline]
    pub const fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every byte has been read.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The bytes not yet read, without consuming them.
    #[inline]
    pub const fn rest(&self) -> &'a [u8] {
        self.rest
    }

    #[inline]
    fn truncated(&self) -> Error {
        Error::Malformed {
            what: "truncated",
            offset: self.offset,
        }
    }

    /// Reads exactly `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or_else(|| self.truncated())?;
        self.rest = tail;
        self.offset = self.offset.saturating_add(n);
        Ok(head)
    }

    /// Reads exactly `N` bytes as an array reference.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<&'a [u8; N], Error> {
        let (head, tail) = self.rest.split_first_chunk::<N>().ok_or_else(|| self.truncated())?;
        self.rest = tail;
        self.offset = self.offset.saturating_add(N);
        Ok(head)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, Error> {
        let (&b, tail) = self.rest.split_first().ok_or_else(|| self.truncated())?;
        self.rest = tail;
        self.offset = self.offset.saturating_add(1);
        Ok(b)
    }

    /// Reads a big-endian `u16`.
    #[inline]
    pub fn u16(&mut self) -> Result<u16, Error> {
        self.array::<2>().map(|b| u16::from_be_bytes(*b))
    }

    /// Reads a big-endian 24-bit integer.
    #[inline]
    pub fn u24(&mut self) -> Result<u32, Error> {
        let &[a, b, c] = self.array::<3>()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian `u32`.
    #[inline]
    pub fn u32(&mut self) -> Result<u32, Error> {
        self.array::<4>().map(|b| u32::from_be_bytes(*b))
    }

    /// Reads exactly `len` bytes; returns a reader over them.
    #[inline]
    pub fn sub(&mut self, len: usize) -> Result<Reader<'a>, Error> {
        let offset = self.offset;
        let body = self.take(len)?;
        Ok(Reader::with_offset(body, offset))
    }

    /// Reads a vector with a one-byte length prefix; returns a reader over its body.
    #[inline]
    pub fn sub_u8(&mut self) -> Result<Reader<'a>, Error> {
        let len = self.u8()?;
        self.sub(usize::from(len))
    }

    /// Reads a vector with a two-byte length prefix; returns a reader over its body.
    #[inline]
    pub fn sub_u16(&mut self) -> Result<Reader<'a>, Error> {
        let len = self.u16()?;
        self.sub(usize::from(len))
    }

    /// Reads a vector with a three-byte length prefix; returns a reader over its body.
    #[inline]
    pub fn sub_u24(&mut self) -> Result<Reader<'a>, Error> {
        let len = self.u24()?;
        // A u24 always fits a usize on the platforms Rust supports; saturate rather than panic.
        self.sub(usize::try_from(len).unwrap_or(usize::MAX))
    }

    /// Succeeds only if every byte has been read.
    #[inline]
    pub fn finish(self) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed {
                what: "trailing bytes",
                offset: self.offset,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truncated(offset: usize) -> Error {
        Error::Malformed {
            what: "truncated",
            offset,
        }
    }

    #[test]
    fn integers() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u24(), Ok(0x04_0506));
        assert_eq!(r.u32(), Ok(0x0708_090a));
        assert!(r.is_empty());
        assert_eq!(r.offset(), 10);
        assert_eq!(r.u8(), Err(truncated(10)));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn short_reads_fail_without_consuming() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u24(), Err(truncated(0)));
        assert_eq!(r.u32(), Err(truncated(0)));
        assert_eq!(r.take(3), Err(truncated(0)));
        assert_eq!(r.array::<3>(), Err(truncated(0)));
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.take(2), Ok(&[1u8, 2][..]));
        assert_eq!(Reader::new(&[]).u16(), Err(truncated(0)));
    }

    #[test]
    fn sub_readers_report_absolute_offsets() {
        let mut r = Reader::new(&[9, 0, 3, 7, 8, 9, 1]);
        assert_eq!(r.u8(), Ok(9));
        let mut s = r.sub_u16().unwrap();
        assert_eq!(s.offset(), 3);
        assert_eq!(s.rest(), &[7, 8, 9]);
        assert_eq!(s.u8(), Ok(7));
        assert_eq!(
            s.finish(),
            Err(Error::Malformed {
                what: "trailing bytes",
                offset: 4
            })
        );
        assert_eq!(r.sub_u8(), Err(truncated(7)));
    }

    #[test]
    fn sub_vector_lengths_are_checked() {
        assert_eq!(Reader::new(&[2, 1]).sub_u8(), Err(truncated(1)));
        assert_eq!(Reader::new(&[0, 2, 1]).sub_u16(), Err(truncated(2)));
        assert_eq!(Reader::new(&[0, 0, 2, 1]).sub_u24(), Err(truncated(3)));
        assert_eq!(Reader::new(&[0, 0]).sub_u24(), Err(truncated(0)));
        let mut r = Reader::new(&[0, 0, 1, 5]);
        let s = r.sub_u24().unwrap();
        assert_eq!(s.rest(), &[5]);
        assert!(r.is_empty());
    }

    #[test]
    fn offsets_saturate() {
        let mut r = Reader::with_offset(&[1, 2], usize::MAX);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.offset(), usize::MAX);
    }
}
