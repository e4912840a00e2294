//! Page items to printpdf content operations: every text is one text object with an
//! absolute text matrix per glyph (printpdf merges a baseline's glyphs into one `TJ`).

use crate::item::{Item, Rgb8};
use crate::text::Face;
use printpdf::{
    Codepoint, Color, FontId, Line, LinePoint, Op, PaintMode, PdfFontHandle, Point, Polygon,
    PolygonRing, Pt, Rect, Rgb, TextItem, TextMatrix, WindingOrder,
};
use std::collections::HashMap;

/// A font embedded in the document, and the glyph ids of its subset by original id.
pub(crate) type Embedded = HashMap<Face, (FontId, HashMap<u16, u16>)>;

fn colour(rgb: Rgb8) -> Color {
    Color::Rgb(Rgb {
        r: f32::from(rgb.0) / 255.0,
        g: f32::from(rgb.1) / 255.0,
        b: f32::from(rgb.2) / 255.0,
        icc_profile: None,
    })
}
fn pt(x: f32, y: f32) -> Point {
    Point { x: Pt(x), y: Pt(y) }
}

/// A circle as four cubic Bézier arcs (control points at 0.5523 r).
fn circle_points(centre: (f32, f32), r: f32) -> Vec<LinePoint> {
    const K: f32 = 0.552_284_8;
    let (cx, cy) = centre;
    let k = K * r;
    let at = |x: f32, y: f32, bezier: bool| LinePoint {
        p: pt(cx + x, cy + y),
        bezier,
    };
    vec![
        at(r, 0.0, false),
        at(r, k, true),
        at(k, r, true),
        at(0.0, r, false),
        at(-k, r, true),
        at(-r, k, true),
        at(-r, 0.0, false),
        at(-r, -k, true),
        at(-k, -r, true),
        at(0.0, -r, false),
        at(k, -r, true),
        at(r, -k, true),
        at(r, 0.0, false),
    ]
}

/// The content operations of a page.
pub(crate) fn ops(items: &[Item], fonts: &Embedded) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut fill: Option<Rgb8> = None;
    let mut stroke: Option<(f32, u8)> = None;
    let mut font: Option<(Face, f32)> = None;
    let mut set_fill = |ops: &mut Vec<Op>, rgb: Rgb8| {
        if fill != Some(rgb) {
            ops.push(Op::SetFillColor { col: colour(rgb) });
            fill = Some(rgb);
        }
    };
    let mut set_stroke = |ops: &mut Vec<Op>, width: f32, grey: u8| {
        if stroke != Some((width, grey)) {
            ops.push(Op::SetOutlineColor {
                col: colour((grey, grey, grey)),
            });
            ops.push(Op::SetOutlineThickness { pt: Pt(width) });
            stroke = Some((width, grey));
        }
    };
    for item in items {
        match item {
            Item::Fill { x, y, w, h, rgb } => {
                set_fill(&mut ops, *rgb);
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(*x),
                        y: Pt(*y),
                        width: Pt(*w),
                        height: Pt(*h),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Item::Line {
                from,
                to,
                width,
                grey,
            } => {
                set_stroke(&mut ops, *width, *grey);
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![
                            LinePoint {
                                p: pt(from.0, from.1),
                                bezier: false,
                            },
                            LinePoint {
                                p: pt(to.0, to.1),
                                bezier: false,
                            },
                        ],
                        is_closed: false,
                    },
                });
            }
            Item::Circle {
                centre,
                r,
                width,
                grey,
                fill: filled,
            } => {
                let points = circle_points(*centre, *r);
                if *filled {
                    set_fill(&mut ops, (*grey, *grey, *grey));
                    ops.push(Op::DrawPolygon {
                        polygon: Polygon {
                            rings: vec![PolygonRing { points }],
                            mode: PaintMode::Fill,
                            winding_order: WindingOrder::NonZero,
                        },
                    });
                } else {
                    set_stroke(&mut ops, *width, *grey);
                    ops.push(Op::DrawLine {
                        line: Line {
                            points,
                            is_closed: true,
                        },
                    });
                }
            }
            Item::Text {
                shaped,
                x,
                y,
                size,
                rgb,
                rotated,
            } => {
                set_fill(&mut ops, *rgb);
                ops.push(Op::StartTextSection);
                let scale = size / 1000.0;
                for g in &shaped.glyphs {
                    let Some((id, remap)) = fonts.get(&g.face) else {
                        continue;
                    };
                    if font != Some((g.face, *size)) {
                        ops.push(Op::SetFont {
                            font: PdfFontHandle::External(id.clone()),
                            size: Pt(*size),
                        });
                        font = Some((g.face, *size));
                    }
                    let (gx, gy) = (g.x * scale, g.y * scale);
                    let matrix = if *rotated {
                        TextMatrix::Raw([0.0, 1.0, -1.0, 0.0, x - gy, y + gx])
                    } else {
                        TextMatrix::Translate(Pt(x + gx), Pt(y + gy))
                    };
                    ops.push(Op::SetTextMatrix { matrix });
                    let gid = remap.get(&g.gid).copied().unwrap_or(0);
                    ops.push(Op::ShowText {
                        items: vec![TextItem::GlyphIds(vec![Codepoint::with_cid(
                            gid,
                            0.0,
                            g.text.clone(),
                        )])],
                    });
                }
                ops.push(Op::EndTextSection);
            }
        }
    }
    ops
}
