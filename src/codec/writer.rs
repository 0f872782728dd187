//! A writer for big-endian integers and length-prefixed vectors.

use super::Error;

/// Appends TLS wire encodings to a `Vec<u8>`.
///
/// Length-prefixed vectors are written body first: [`Writer::u16_prefixed`] reserves the prefix,
/// runs the closure that writes the body, then patches the prefix with the body's length. A body
/// longer than the prefix allows is removed again and reported as [`Error::TooLong`].
#[derive(Debug)]
pub struct Writer<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> Writer<'o> {
    /// A writer appending to `out`.
    #[inline]
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        Self { out }
    }

    /// How many bytes the underlying vector holds.
    #[inline]
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether the underlying vector is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Writes one byte.
    #[inline]
    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    /// Writes a big-endian `u16`.
    #[inline]
    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes the low 24 bits of `v`, big-endian.
    #[inline]
    pub fn u24(&mut self, v: u32) {
        let [_, a, b, c] = v.to_be_bytes();
        self.out.extend_from_slice(&[a, b, c]);
    }

    /// Writes a big-endian `u32`.
    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes raw bytes.
    #[inline]
    pub fn bytes(&mut self, v: &[u8]) {
        self.out.extend_from_slice(v);
    }

    /// Writes a vector with a one-byte length prefix; `body` writes its contents.
    pub fn u8_prefixed(
        &mut self,
        what: &'static str,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.prefixed(1, what, body)
    }

    /// Writes a vector with a two-byte length prefix; `body` writes its contents.
    pub fn u16_prefixed(
        &mut self,
        what: &'static str,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.prefixed(2, what, body)
    }

    /// Writes a vector with a three-byte length prefix; `body` writes its contents.
    pub fn u24_prefixed(
        &mut self,
        what: &'static str,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.prefixed(3, what, body)
    }

    /// Writes `v` with a one-byte length prefix.
    pub fn u8_vec(&mut self, what: &'static str, v: &[u8]) -> Result<(), Error> {
        self.u8_prefixed(what, |w| {
            w.bytes(v);
            Ok(())
        })
    }

    /// Writes `v` with a two-byte length prefix.
    pub fn u16_vec(&mut self, what: &'static str, v: &[u8]) -> Result<(), Error> {
        self.u16_prefixed(what, |w| {
            w.bytes(v);
            Ok(())
        })
    }

    fn prefixed(
        &mut self,
        width: usize,
        what: &'static str,
        body: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let start = self.out.len();
        self.out.extend(core::iter::repeat_n(0u8, width));
        let result = body(&mut Writer { out: self.out });
        let len = self.out.len().saturating_sub(start).saturating_sub(width);
        let max = (1usize << (8 * width)) - 1;
        if let Err(e) = result {
            self.out.truncate(start);
            return Err(e);
        }
        if len > max {
            self.out.truncate(start);
            return Err(Error::TooLong { what, len, max });
        }
        // `len <= max < 2^24`, so the low `width` bytes of its big-endian form hold all of it.
        let bytes = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
        if let Some(slot) = self.out.get_mut(start..) {
            for (dst, src) in slot.iter_mut().zip(bytes.iter().skip(4 - width)) {
                *dst = *src;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        let mut out = vec![];
        let mut w = Writer::new(&mut out);
        assert!(w.is_empty());
        w.u8(1);
        w.u16(0x0203);
        w.u24(0xff04_0506);
        w.u32(0x0708_090a);
        w.bytes(&[11]);
        assert_eq!(w.len(), 11);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn prefixes_are_patched_after_the_body() {
        let mut out = vec![0xee];
        let mut w = Writer::new(&mut out);
        w.u24_prefixed("outer", |w| w.u16_prefixed("mid", |w| w.u8_vec("inner", &[1, 2, 3])))
            .unwrap();
        assert_eq!(out, [0xee, 0, 0, 6, 0, 4, 3, 1, 2, 3]);
    }

    #[test]
    fn too_long_is_refused_and_rolled_back() {
        let mut out = vec![7];
        let mut w = Writer::new(&mut out);
        assert_eq!(
            w.u8_vec("thing", &[0; 256]),
            Err(Error::TooLong {
                what: "thing",
                len: 256,
                max: 255
            })
        );
        assert_eq!(w.u8_vec("thing", &[0; 255]), Ok(()));
        assert_eq!(out.len(), 1 + 1 + 255);
        let mut out = vec![];
        let r = Writer::new(&mut out).u16_prefixed("outer", |w| {
            w.bytes(&[1]);
            w.u8_vec("inner", &[0; 300])
        });
        assert!(matches!(r, Err(Error::TooLong { what: "inner", .. })));
        assert!(out.is_empty());
        assert!(Writer::new(&mut out).u16_vec("x", &[0; 65536]).is_err());
        assert!(Writer::new(&mut out).u16_vec("x", &[0; 65535]).is_ok());
        assert_eq!(out.get(..2), Some(&[0xff, 0xff][..]));
    }
}
