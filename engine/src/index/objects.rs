//! The zones and operations of a generation: one small file, rewritten whole when they change.
//!
//! ```text
//! off len field
//!   0   8 magic b"DCNFOBJ\0"
//!   8   4 version (OBJECTS_VERSION), u32 LE
//!  12   8 body length, u64 LE
//!  20   4 crc32c of the body, u32 LE
//!  24   … body: bincode 2 (standard config) of `Objects`
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Operation, Zone};

const MAGIC: [u8; 8] = *b"DCNFOBJ\0";
const OBJECTS_VERSION: u32 = 1;
const PREFIX: usize = 24;
const MAX_BODY: usize = 1 << 30;

/// Zones and operations, each unique by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Objects {
    pub zones: Vec<Zone>,
    pub operations: Vec<Operation>,
}

impl Objects {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("objects encode");
        let mut out = Vec::with_capacity(PREFIX + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&OBJECTS_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes and validates; `(offset, reason)` on failure.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Objects, (u64, String)> {
        if bytes.len() < PREFIX || bytes[..8] != MAGIC {
            return Err((0, "not an objects file".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != OBJECTS_VERSION {
            return Err((8, format!("objects version {version} not supported")));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        if len > MAX_BODY as u64 || bytes.len() as u64 != PREFIX as u64 + len {
            return Err((12, "objects length mismatch (truncated or extended)".into()));
        }
        let body = &bytes[PREFIX..];
        if crc32c::crc32c(body) != u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes")) {
            return Err((20, "objects checksum mismatch".into()));
        }
        let config = bincode::config::standard().with_limit::<MAX_BODY>();
        let (o, used): (Objects, usize) = bincode::serde::decode_from_slice(body, config)
            .map_err(|e| (PREFIX as u64, format!("objects body: {e}")))?;
        if used != body.len() {
            return Err((
                (PREFIX + used) as u64,
                "trailing bytes after objects".into(),
            ));
        }
        for z in &o.zones {
            z.validate()
                .map_err(|e| (PREFIX as u64, format!("zone {}: {e}", z.id)))?;
        }
        for op in &o.operations {
            op.validate()
                .map_err(|e| (PREFIX as u64, format!("operation {}: {e}", op.id)))?;
        }
        Ok(o)
    }

    /// Adds zones, replacing those of the same id; returns how many were replaced.
    pub(crate) fn upsert_zones(&mut self, zones: Vec<Zone>) -> usize {
        upsert(&mut self.zones, zones, |z| &z.id)
    }

    /// Adds operations, replacing those of the same id; returns how many were replaced.
    pub(crate) fn upsert_operations(&mut self, ops: Vec<Operation>) -> usize {
        upsert(&mut self.operations, ops, |o| &o.id)
    }
}

fn upsert<T>(have: &mut Vec<T>, new: Vec<T>, id: impl Fn(&T) -> &String) -> usize {
    let mut replaced = 0;
    for item in new {
        match have.iter().position(|h| id(h) == id(&item)) {
            Some(i) => {
                have[i] = item;
                replaced += 1;
            }
            None => have.push(item),
        }
    }
    replaced
}
