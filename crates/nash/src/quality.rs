//! Quality `Q` from the relative gap to the reference, by the bands of DESIGN.md.

use crate::config::QualityBands;

/// `Q` for a relative gap `g` (see [`QualityBands`]): 1.0 on the frontier, 0.95 within 0.1 %,
/// 0.80 within 1 %, then linear down to 0 at `zero_gap`. A negative gap (better than the
/// reference) is on the frontier; NaN gives 0.
#[must_use]
pub fn quality(gap: f64, bands: &QualityBands) -> f64 {
    if gap.is_nan() {
        return 0.0;
    }
    if gap <= bands.frontier_gap {
        1.0
    } else if gap <= bands.near_gap {
        bands.near_quality
    } else if gap <= bands.close_gap {
        bands.close_quality
    } else if gap < bands.zero_gap && bands.zero_gap > bands.close_gap {
        bands.close_quality * (bands.zero_gap - gap) / (bands.zero_gap - bands.close_gap)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        let b = QualityBands::default();
        assert_eq!(quality(-0.5, &b), 1.0);
        assert_eq!(quality(0.0, &b), 1.0);
        assert_eq!(quality(1e-9, &b), 1.0);
        assert_eq!(quality(2e-9, &b), 0.95);
        assert_eq!(quality(0.001, &b), 0.95);
        assert_eq!(quality(0.005, &b), 0.80);
        assert_eq!(quality(0.01, &b), 0.80);
        assert!((quality(0.055, &b) - 0.40).abs() < 1e-12);
        assert_eq!(quality(0.10, &b), 0.0);
        assert_eq!(quality(7.0, &b), 0.0);
        assert_eq!(quality(f64::NAN, &b), 0.0);
        assert_eq!(quality(f64::INFINITY, &b), 0.0);
    }
}
