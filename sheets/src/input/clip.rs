//! Far-off device-space paths flattened and clipped to the canvas in f64, so tiny-skia
//! never sees coordinates that overflow its fixed-point scan converter.

use tiny_skia::{Path, PathSegment, Point};

use super::{CURVE_STEPS, MAX_FLAT_POINTS};

/// A point in f64: far-off coordinates lose too much in f32 to be clipped.
type Xy = (f64, f64);

/// The contours of a device-space path as points, curves flattened, each with whether it is
/// closed; `None` when it has too many points to be worth clipping.
pub(super) fn polylines(path: &Path) -> Option<Vec<(Vec<Xy>, bool)>> {
    let xy = |p: Point| (f64::from(p.x), f64::from(p.y));
    let mut contours = Vec::new();
    let mut points: Vec<Xy> = Vec::new();
    let mut total = 0usize;
    for segment in path.segments() {
        let s = points.last().copied().unwrap_or_default();
        let steps = (1..=CURVE_STEPS).map(|i| i as f64 / CURVE_STEPS as f64);
        match segment {
            PathSegment::MoveTo(p) => {
                if points.len() > 1 {
                    contours.push((std::mem::take(&mut points), false));
                }
                points = vec![xy(p)];
            }
            PathSegment::LineTo(p) => points.push(xy(p)),
            PathSegment::QuadTo(c, p) => {
                let (c, p) = (xy(c), xy(p));
                points.extend(steps.map(|t| {
                    let (a, b, d) = ((1.0 - t) * (1.0 - t), 2.0 * (1.0 - t) * t, t * t);
                    (a * s.0 + b * c.0 + d * p.0, a * s.1 + b * c.1 + d * p.1)
                }));
            }
            PathSegment::CubicTo(c1, c2, p) => {
                let (c1, c2, p) = (xy(c1), xy(c2), xy(p));
                points.extend(steps.map(|t| {
                    let u = 1.0 - t;
                    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                    (
                        a * s.0 + b * c1.0 + c * c2.0 + d * p.0,
                        a * s.1 + b * c1.1 + c * c2.1 + d * p.1,
                    )
                }));
            }
            PathSegment::Close => {
                if let Some(&first) = points.first() {
                    contours.push((std::mem::replace(&mut points, vec![first]), true));
                }
            }
        }
        total += CURVE_STEPS;
        if total > MAX_FLAT_POINTS {
            return None;
        }
    }
    if points.len() > 1 {
        contours.push((points, false));
    }
    Some(contours)
}

/// A clipped point back in f32, clamped into the clip area: with far-off input the
/// computed intersection can miss the boundary by more than the canvas is wide.
fn clamped((x, y): Xy, [left, top, right, bottom]: [f32; 4]) -> Point {
    let x = x.clamp(f64::from(left), f64::from(right));
    let y = y.clamp(f64::from(top), f64::from(bottom));
    Point::from_xy(x as f32, y as f32)
}

/// Sutherland-Hodgman: the part of a polygon inside `area` (left, top, right, bottom).
/// Winding numbers inside the area are kept, so fills come out the same there.
pub(super) fn clip_polygon(mut points: Vec<Xy>, area: [f32; 4]) -> Vec<Point> {
    let [left, top, right, bottom] = area.map(f64::from);
    for (vertical, bound, keep_above) in [
        (true, left, true),
        (true, right, false),
        (false, top, true),
        (false, bottom, false),
    ] {
        let value = |p: Xy| if vertical { p.0 } else { p.1 };
        let inside = |p: Xy| {
            if keep_above {
                value(p) >= bound
            } else {
                value(p) <= bound
            }
        };
        let cross = |a: Xy, b: Xy| {
            let t = (bound - value(a)) / (value(b) - value(a));
            (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
        };
        let input = std::mem::take(&mut points);
        let Some(&last) = input.last() else {
            break;
        };
        let mut previous = last;
        for &point in &input {
            match (inside(previous), inside(point)) {
                (true, true) => points.push(point),
                (true, false) => points.push(cross(previous, point)),
                (false, true) => {
                    points.push(cross(previous, point));
                    points.push(point);
                }
                (false, false) => {}
            }
            previous = point;
        }
    }
    points.into_iter().map(|p| clamped(p, area)).collect()
}

/// Liang-Barsky: the part of segment `a`-`b` inside `area` (left, top, right, bottom).
pub(super) fn clip_segment(a: Xy, b: Xy, area: [f32; 4]) -> Option<(Point, Point)> {
    let [left, top, right, bottom] = area.map(f64::from);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut enter, mut leave) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - left),
        (dx, right - a.0),
        (-dy, a.1 - top),
        (dy, bottom - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else if p < 0.0 {
            enter = enter.max(q / p);
        } else {
            leave = leave.min(q / p);
        }
    }
    (enter <= leave).then(|| {
        let at = |t: f64| clamped((a.0 + t * dx, a.1 + t * dy), area);
        (at(enter), at(leave))
    })
}
