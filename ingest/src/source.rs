//! Input sources: a file, `-` for standard input, either of them possibly gzip'd.
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), never by the file name, and decoded with
//! [`flate2::read::MultiGzDecoder`] so that concatenated members (as `cat a.gz b.gz` makes) are
//! read whole. Opening errors name the path and say what is wrong: missing file, a directory,
//! permission denied, a symlink loop.
//!
//! ```
//! use std::io::Read;
//! let mut src = deconflict_ingest::source::Source::from_reader("mem.csv", &b"id,time\n"[..]).unwrap();
//! assert!(!src.is_gzip());
//! let mut s = String::new();
//! src.read_to_string(&mut s).unwrap();
//! assert_eq!(s, "id,time\n");
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};

use flate2::read::MultiGzDecoder;

use crate::error::IngestError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened input with the name it was given by (the path, or `-`). Reading it yields the
/// decompressed bytes.
pub struct Source {
    /// The path as given, or `-` for standard input.
    pub name: String,
    reader: Box<dyn Read + Send>,
    gzip: bool,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// A source over any reader; gzip is detected from its first two bytes.
    ///
    /// # Errors
    /// An error of the first read.
    pub fn from_reader(
        name: impl Into<String>,
        mut reader: impl Read + Send + 'static,
    ) -> io::Result<Source> {
        let mut head = [0u8; 2];
        let mut n = 0;
        while n < head.len() {
            match reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let gzip = n == 2 && head == GZIP_MAGIC;
        let whole = Cursor::new(head[..n].to_vec()).chain(reader);
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
                256 * 1024,
                whole,
            )))
        } else {
            Box::new(whole)
        };
        Ok(Source {
            name: name.into(),
            reader,
            gzip,
        })
    }

    #[must_use]
    /// True when the content is gzip-compressed (reads yield decompressed bytes).
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

/// Opens `path` for reading; `-` is standard input.
///
/// # Errors
/// [`IngestError`] naming the path: missing, a directory, permission denied, a symlink loop,
/// or another I/O error.
pub fn open_source(path: &str) -> Result<Source, IngestError> {
    if path == "-" {
        return Source::from_reader("-", io::stdin()).map_err(|e| IngestError::io(path, e));
    }
    let file = File::open(path).map_err(|e| IngestError::io(path, e))?;
    let meta = file.metadata().map_err(|e| IngestError::io(path, e))?;
    if meta.is_dir() {
        return Err(IngestError::IsDirectory {
            path: path.to_owned(),
        });
    }
    Source::from_reader(path, file).map_err(|e| IngestError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(mut s: Source) -> Vec<u8> {
        let mut v = Vec::new();
        s.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn detects_gzip_by_magic_not_name() {
        let s = Source::from_reader("plain.csv", Cursor::new(gz(b"hello\n"))).unwrap();
        assert!(s.is_gzip());
        assert_eq!(read_all(s), b"hello\n");
        let s = Source::from_reader("x.csv.gz", Cursor::new(b"hello\n".to_vec())).unwrap();
        assert!(!s.is_gzip());
        assert_eq!(read_all(s), b"hello\n");
    }

    #[test]
    fn concatenated_gzip_members_are_read_whole() {
        let mut data = gz(b"a\n");
        data.extend(gz(b"b\n"));
        assert_eq!(
            read_all(Source::from_reader("x", Cursor::new(data)).unwrap()),
            b"a\nb\n"
        );
    }

    #[test]
    fn short_inputs() {
        for data in [&b""[..], b"\x1f", b"x"] {
            let s = Source::from_reader("x", Cursor::new(data.to_vec())).unwrap();
            assert!(!s.is_gzip());
            assert_eq!(read_all(s), data);
        }
    }

    #[test]
    fn open_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let missing = missing.to_str().unwrap();
        let e = open_source(missing).unwrap_err();
        assert!(matches!(e, IngestError::NotFound { .. }), "{e:?}");
        assert_eq!(e.to_string(), format!("{missing}: no such file"));

        let d = dir.path().to_str().unwrap();
        let e = open_source(d).unwrap_err();
        assert!(matches!(e, IngestError::IsDirectory { .. }), "{e:?}");
        assert!(e.to_string().starts_with(d));

        #[cfg(unix)]
        {
            let a = dir.path().join("a");
            let b = dir.path().join("b");
            std::os::unix::fs::symlink(&a, &b).unwrap();
            std::os::unix::fs::symlink(&b, &a).unwrap();
            let e = open_source(a.to_str().unwrap()).unwrap_err();
            assert!(matches!(e, IngestError::SymlinkLoop { .. }), "{e:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn permission_denied_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret.csv");
        std::fs::write(&p, "id\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let path = p.to_str().unwrap();
        // Running as root, permissions are not enforced and the open succeeds.
        if let Err(e) = open_source(path) {
            assert!(matches!(e, IngestError::PermissionDenied { .. }), "{e:?}");
        }
    }
}
