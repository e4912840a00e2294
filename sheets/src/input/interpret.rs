//! Content-stream interpretation to a display list: graphics-state, colour, path and
//! image operators, and form XObjects, within the page's budgets.

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use tiny_skia::{FillRule, LineCap, LineJoin, PathBuilder, Transform};

use super::colour::Space;
use super::filters::decode_stream;
use super::images::{ImageDraw, ImageSource};
use super::objects::{deref, get, lossy, numbers};
use super::state::{Draw, GState};
use super::{Limits, MAX_FORM_DEPTH, MAX_OPERATIONS, MAX_SAVED_STATES, PageError, damaged};

/// The interpretation of one content stream (the page's or a form's).
struct Frame<'a> {
    resources: Option<&'a Dictionary>,
    depth: usize,
    state: GState,
    saved: Vec<GState>,
    unsaved: usize,
    path: PathBuilder,
}

/// Turns a page's content, forms included, into its display list.
pub(super) struct Interpreter<'a> {
    doc: &'a Document,
    pub(super) draws: Vec<Draw<'a>>,
    operations: usize,
    /// Decoded content bytes still allowed on this page, forms included.
    pub(super) content_budget: usize,
    /// Forms being interpreted, to refuse a form that draws itself.
    forms: Vec<ObjectId>,
}

/// The page's content streams, concatenated with newlines.
pub(super) fn page_content(
    doc: &Document,
    page: &Dictionary,
    budget: &mut usize,
) -> Result<Vec<u8>, PageError> {
    let streams: Vec<&Stream> = match get(doc, page, b"Contents") {
        None | Some(Object::Null) => Vec::new(),
        Some(Object::Stream(stream)) => vec![stream],
        Some(Object::Array(items)) => items
            .iter()
            .map(|i| deref(doc, i).and_then(|o| o.as_stream().ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| damaged("a content stream is missing"))?,
        Some(_) => return Err(damaged("the page content is malformed")),
    };
    let mut content = Vec::new();
    for stream in streams {
        let data = decode_stream(doc, stream, *budget)?;
        *budget -= data.len();
        content.extend_from_slice(&data);
        content.push(b'\n');
    }
    Ok(content)
}

impl<'a> Interpreter<'a> {
    pub(super) fn new(doc: &'a Document, limits: Limits) -> Self {
        Interpreter {
            doc,
            draws: Vec::new(),
            operations: 0,
            content_budget: limits.max_stream_bytes,
            forms: Vec::new(),
        }
    }

    pub(super) fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        state: GState,
        depth: usize,
    ) -> Result<(), PageError> {
        let mut frame = Frame {
            resources,
            depth,
            state,
            saved: Vec::new(),
            unsaved: 0,
            path: PathBuilder::new(),
        };
        for operation in Content::<Vec<Operation>>::decode_iter(content) {
            // A damaged tail ends the page where viewers stop drawing it too.
            let Ok(operation) = operation else { break };
            self.operations += 1;
            if self.operations > MAX_OPERATIONS {
                return Err(PageError::TooLarge(
                    "the page has too many drawing operations".into(),
                ));
            }
            self.step(&mut frame, &operation)?;
        }
        Ok(())
    }

    fn step(&mut self, frame: &mut Frame<'a>, operation: &Operation) -> Result<(), PageError> {
        let args: Vec<f32> = operation
            .operands
            .iter()
            .filter_map(|o| o.as_float().ok())
            .filter(|n| n.is_finite())
            .collect();
        let state = &mut frame.state;
        match (operation.operator.as_str(), args.as_slice()) {
            ("q", _) if frame.saved.len() < MAX_SAVED_STATES => frame.saved.push(state.clone()),
            ("q", _) => frame.unsaved += 1,
            ("Q", _) if frame.unsaved > 0 => frame.unsaved -= 1,
            ("Q", _) => {
                if let Some(saved) = frame.saved.pop() {
                    *state = saved;
                }
            }
            ("cm", &[a, b, c, d, e, f]) => {
                state.ctm = state.ctm.pre_concat(Transform::from_row(a, b, c, d, e, f))
            }
            ("w", &[w]) => state.line_width = w.abs(),
            ("J", &[cap]) => {
                state.cap = [LineCap::Butt, LineCap::Round, LineCap::Square][(cap as usize).min(2)]
            }
            ("j", &[join]) => {
                state.join =
                    [LineJoin::Miter, LineJoin::Round, LineJoin::Bevel][(join as usize).min(2)]
            }
            ("M", &[miter]) => state.miter = miter.max(1.0),
            (
                "g" | "G" | "rg" | "RG" | "k" | "K" | "cs" | "CS" | "sc" | "scn" | "SC" | "SCN",
                _,
            ) => self.colour(frame, operation, &args),
            ("Do", _) => {
                if let Some(name) = operation.operands.first().and_then(|o| o.as_name().ok()) {
                    self.xobject(frame, name)?;
                }
            }
            ("BI", _) => {
                if let Some(Object::Stream(stream)) = operation.operands.first() {
                    let source = ImageSource::Inline(Box::new(stream.clone()));
                    self.image(frame, source);
                }
            }
            (operator, args) => self.path(frame, operator, args),
        }
        Ok(())
    }

    /// Colour operators; every colour is kept as the grey it prints as.
    fn colour(&self, frame: &mut Frame<'a>, operation: &Operation, args: &[f32]) {
        let state = &mut frame.state;
        match (operation.operator.as_str(), args) {
            ("g", &[g]) => state.fill.set(Space::Gray, &[g]),
            ("G", &[g]) => state.stroke.set(Space::Gray, &[g]),
            ("rg", &[r, g, b]) => state.fill.set(Space::Rgb, &[r, g, b]),
            ("RG", &[r, g, b]) => state.stroke.set(Space::Rgb, &[r, g, b]),
            ("k", &[c, m, y, k]) => state.fill.set(Space::Cmyk, &[c, m, y, k]),
            ("K", &[c, m, y, k]) => state.stroke.set(Space::Cmyk, &[c, m, y, k]),
            ("cs" | "CS", _) => {
                let space = operation
                    .operands
                    .first()
                    .and_then(|o| Space::parse(self.doc, o, frame.resources, 0).ok())
                    .unwrap_or(Space::Gray);
                let ink = if operation.operator == "cs" {
                    &mut state.fill
                } else {
                    &mut state.stroke
                };
                let initial = space.initial();
                ink.set(space, &initial);
            }
            ("sc" | "scn", colour) => state.fill.components(colour),
            ("SC" | "SCN", colour) => state.stroke.components(colour),
            _ => {}
        }
    }

    /// Path construction and painting operators.
    fn path(&mut self, frame: &mut Frame<'a>, operator: &str, args: &[f32]) {
        let path = &mut frame.path;
        match (operator, args) {
            ("m", &[x, y]) => path.move_to(x, y),
            ("l", &[x, y]) => path.line_to(x, y),
            ("c", &[x1, y1, x2, y2, x3, y3]) => path.cubic_to(x1, y1, x2, y2, x3, y3),
            ("v", &[x2, y2, x3, y3]) => {
                if let Some(p) = path.last_point() {
                    path.cubic_to(p.x, p.y, x2, y2, x3, y3);
                }
            }
            ("y", &[x1, y1, x3, y3]) => path.cubic_to(x1, y1, x3, y3, x3, y3),
            ("h", _) => path.close(),
            ("re", &[x, y, w, h]) => {
                path.move_to(x, y);
                path.line_to(x + w, y);
                path.line_to(x + w, y + h);
                path.line_to(x, y + h);
                path.close();
            }
            ("f" | "F", _) => self.paint(frame, Some(FillRule::Winding), false, false),
            ("f*", _) => self.paint(frame, Some(FillRule::EvenOdd), false, false),
            ("S", _) => self.paint(frame, None, true, false),
            ("s", _) => self.paint(frame, None, true, true),
            ("B", _) => self.paint(frame, Some(FillRule::Winding), true, false),
            ("B*", _) => self.paint(frame, Some(FillRule::EvenOdd), true, false),
            ("b", _) => self.paint(frame, Some(FillRule::Winding), true, true),
            ("b*", _) => self.paint(frame, Some(FillRule::EvenOdd), true, true),
            // Clipping is not applied; `n` ends the (clipping) path unpainted.
            ("n", _) => frame.path = PathBuilder::new(),
            _ => {}
        }
    }

    fn paint(&mut self, frame: &mut Frame<'a>, fill: Option<FillRule>, stroke: bool, close: bool) {
        if close {
            frame.path.close();
        }
        // Not `take`: tiny-skia's `PathBuilder::default()` lets a path start without a
        // move-to, which its rasterizer then indexes out of bounds on.
        let Some(path) = std::mem::replace(&mut frame.path, PathBuilder::new()).finish() else {
            return;
        };
        let state = &frame.state;
        if let (Some(rule), Some(gray)) = (fill, state.fill.gray) {
            let path = path.clone();
            self.draws.push(Draw::Fill {
                path,
                rule,
                gray,
                ctm: state.ctm,
            });
        }
        if let (true, Some(gray)) = (stroke, state.stroke.gray) {
            self.draws.push(Draw::Stroke {
                path,
                gray,
                ctm: state.ctm,
                width: state.line_width,
                cap: state.cap,
                join: state.join,
                miter: state.miter,
            });
        }
    }

    fn image(&mut self, frame: &Frame<'a>, source: ImageSource<'a>) {
        self.draws.push(Draw::Image(ImageDraw {
            source,
            resources: frame.resources,
            ctm: frame.state.ctm,
            fill: frame.state.fill.gray.unwrap_or(0.0),
        }));
    }

    fn xobject(&mut self, frame: &Frame<'a>, name: &[u8]) -> Result<(), PageError> {
        let doc = self.doc;
        let missing = || damaged(format!("the page draws a missing object /{}", lossy(name)));
        let entry = frame
            .resources
            .and_then(|r| get(doc, r, b"XObject"))
            .and_then(|o| o.as_dict().ok())
            .and_then(|x| x.get(name).ok())
            .ok_or_else(missing)?;
        let (id, object) = doc.dereference(entry).map_err(|_| missing())?;
        let stream = object.as_stream().map_err(|_| missing())?;
        match get(doc, &stream.dict, b"Subtype").and_then(|o| o.as_name().ok()) {
            Some(b"Image") => self.image(frame, ImageSource::Object(stream)),
            Some(b"Form") => self.form(frame, id, stream)?,
            _ => {}
        }
        Ok(())
    }

    fn form(
        &mut self,
        frame: &Frame<'a>,
        id: Option<ObjectId>,
        stream: &'a Stream,
    ) -> Result<(), PageError> {
        let doc = self.doc;
        if frame.depth >= MAX_FORM_DEPTH || id.is_some_and(|id| self.forms.contains(&id)) {
            return Err(damaged("its forms nest too deeply or draw themselves"));
        }
        let matrix = match get(doc, &stream.dict, b"Matrix")
            .map(|o| numbers(doc, o))
            .as_deref()
        {
            Some(&[a, b, c, d, e, f]) => Transform::from_row(a, b, c, d, e, f),
            _ => Transform::identity(),
        };
        // Old files leave a form's resources to the page's.
        let resources = get(doc, &stream.dict, b"Resources")
            .and_then(|o| o.as_dict().ok())
            .or(frame.resources);
        let content = decode_stream(doc, stream, self.content_budget)?;
        self.content_budget -= content.len();
        let mut state = frame.state.clone();
        state.ctm = state.ctm.pre_concat(matrix);
        self.forms.extend(id);
        let result = self.run(&content, resources, state, frame.depth + 1);
        if id.is_some() {
            self.forms.pop();
        }
        result
    }
}
