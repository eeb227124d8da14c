//! Float-to-integer rounding for hot paths. `f64::floor` and `f64::ceil` are library calls on
//! baseline x86-64 (≈ 40 instructions each: the rounding instructions came with SSE4.1); a
//! truncating cast and one comparison give the same integers.

/// `x.floor()` as an integer: exact for `|x| < 2^63`, saturating beyond, 0 for NaN (as
/// `x.floor() as i64`).
#[inline]
pub(crate) fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_sub(i64::from((t as f64) > x))
}

/// `x.ceil()` as an integer: exact for `|x| < 2^63`, saturating beyond, 0 for NaN (as
/// `x.ceil() as i64`).
#[inline]
pub(crate) fn ceil_i64(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_add(i64::from((t as f64) < x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The same integers as `floor`/`ceil` with a saturating cast, on integers, halves, values
    /// a few ulps either side of integers, huge and special values.
    #[test]
    fn agree_with_floor_and_ceil() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            9.223_372_036_854_775e18,
            -9.223_372_036_854_775e18,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
        ];
        for _ in 0..200_000 {
            let i = rng.gen_range(-3_000_000_000i64..3_000_000_000) as f64;
            let ulps = rng.gen_range(-3i64..=3);
            let v = f64::from_bits((i.to_bits() as i64 + ulps) as u64);
            xs.extend([
                v,
                i + 0.5,
                rng.gen_range(-1e12..1e12),
                rng.gen_range(-2.0..2.0),
            ]);
        }
        for x in xs {
            assert_eq!(floor_i64(x), x.floor() as i64, "floor {x:e}");
            assert_eq!(ceil_i64(x), x.ceil() as i64, "ceil {x:e}");
        }
    }
}
