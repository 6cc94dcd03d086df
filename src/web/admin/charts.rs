//! Bar charts drawn on the server as SVG (no script), for the console home.
//!
//! A chart is its numbers laid out: each bar's rectangle and text positions
//! are worked out here, so the template only writes them down. The same
//! numbers go in the chart's description (read by screen readers, as the
//! SVG is one image to them) and in the table the page puts beside it.

use crate::web::numbers::thousands;

/// The drawing's width in SVG units; it scales to its box.
pub const WIDTH: i32 = 600;

/// Horizontal bars: where the labels end and the bars start.
const LABEL_WIDTH: i32 = 190;
/// Room right of the longest bar for its number.
const VALUE_ROOM: i32 = 70;
const ROW_HEIGHT: i32 = 30;
const BAR_THICKNESS: i32 = 20;
/// Labels longer than this are cut in the drawing (the table has them whole).
const LABEL_CHARS: usize = 22;

/// Columns: the plot's height, and room above it (numbers) and below (labels).
const PLOT_HEIGHT: i32 = 150;
const TOP_ROOM: i32 = 20;
const BOTTOM_ROOM: i32 = 24;

/// One thing counted.
pub struct Item {
    pub label: String,
    pub value: i64,
    /// A page about it, linked from the table.
    pub href: Option<String>,
}

impl Item {
    pub fn new(label: impl Into<String>, value: i64) -> Self {
        Self {
            label: label.into(),
            value,
            href: None,
        }
    }
}

/// A point where a text is drawn, and how it is anchored there.
pub struct TextAt {
    pub x: i32,
    pub y: i32,
    pub anchor: &'static str,
}

/// A bar as drawn.
pub struct Bar {
    pub label: String,
    /// The label as the drawing shows it (maybe cut).
    pub short_label: String,
    pub value: i64,
    /// The value as pages show numbers (`1,234`).
    pub shown: String,
    pub href: Option<String>,
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    pub label_at: TextAt,
    pub value_at: TextAt,
}

pub struct Chart {
    /// The section's id; its heading, title and description ids derive from it.
    pub id: &'static str,
    pub title: &'static str,
    /// What the chart shows, in a sentence under the heading.
    pub hint: String,
    /// The numbers in words, for the SVG's `<desc>`.
    pub description: String,
    /// The table's column headings.
    pub key_heading: &'static str,
    pub value_heading: &'static str,
    /// What the table says when there is nothing to draw.
    pub empty: &'static str,
    pub height: i32,
    pub bars: Vec<Bar>,
    /// A page with the details, and its link text.
    pub more: Option<(String, &'static str)>,
}

/// What every chart is told besides its items.
pub struct Frame {
    pub id: &'static str,
    pub title: &'static str,
    pub hint: String,
    pub key_heading: &'static str,
    pub value_heading: &'static str,
    pub empty: &'static str,
    pub more: Option<(String, &'static str)>,
}

impl Chart {
    /// One bar per row, growing to the right: for categories with long names.
    pub fn rows(frame: Frame, items: Vec<Item>) -> Self {
        let max = items.iter().map(|i| i.value).max().unwrap_or(0);
        let room = WIDTH - LABEL_WIDTH - VALUE_ROOM;
        let bars = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let top = i as i32 * ROW_HEIGHT + (ROW_HEIGHT - BAR_THICKNESS) / 2;
                let width = scale(item.value, max, room);
                let middle = top + BAR_THICKNESS / 2 + 5;
                Bar {
                    short_label: cut(&item.label),
                    shown: thousands(item.value),
                    x: LABEL_WIDTH,
                    y: top,
                    width,
                    height: BAR_THICKNESS,
                    label_at: TextAt {
                        x: LABEL_WIDTH - 8,
                        y: middle,
                        anchor: "end",
                    },
                    value_at: TextAt {
                        x: LABEL_WIDTH + width + 6,
                        y: middle,
                        anchor: "start",
                    },
                    label: item.label,
                    value: item.value,
                    href: item.href,
                }
            })
            .collect::<Vec<_>>();
        let height = (bars.len() as i32 * ROW_HEIGHT).max(ROW_HEIGHT);
        Self::framed(frame, bars, height)
    }

    /// One column per item, growing upwards, labels below: for a series in
    /// time, oldest first.
    pub fn columns(frame: Frame, items: Vec<Item>) -> Self {
        let max = items.iter().map(|i| i.value).max().unwrap_or(0);
        let slot = WIDTH / (items.len().max(1) as i32);
        let thickness = slot * 3 / 5;
        let bottom = TOP_ROOM + PLOT_HEIGHT;
        let bars = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let height = scale(item.value, max, PLOT_HEIGHT);
                let centre = i as i32 * slot + slot / 2;
                Bar {
                    short_label: cut(&item.label),
                    shown: thousands(item.value),
                    x: centre - thickness / 2,
                    y: bottom - height,
                    width: thickness,
                    height,
                    label_at: TextAt {
                        x: centre,
                        y: bottom + 17,
                        anchor: "middle",
                    },
                    value_at: TextAt {
                        x: centre,
                        y: bottom - height - 5,
                        anchor: "middle",
                    },
                    label: item.label,
                    value: item.value,
                    href: item.href,
                }
            })
            .collect();
        Self::framed(frame, bars, bottom + BOTTOM_ROOM)
    }

    fn framed(frame: Frame, bars: Vec<Bar>, height: i32) -> Self {
        let description = if bars.is_empty() {
            format!("{}: {}", frame.title, frame.empty)
        } else {
            let parts: Vec<String> = bars
                .iter()
                .map(|b| format!("{} {}", b.label, b.shown))
                .collect();
            format!("{}: {}.", frame.title, parts.join(", "))
        };
        Self {
            id: frame.id,
            title: frame.title,
            hint: frame.hint,
            description,
            key_heading: frame.key_heading,
            value_heading: frame.value_heading,
            empty: frame.empty,
            height,
            bars,
            more: frame.more,
        }
    }

    pub fn width(&self) -> i32 {
        WIDTH
    }
}

/// `value`'s share of `room`, with `max` filling it; a value above zero
/// shows at least a sliver.
fn scale(value: i64, max: i64, room: i32) -> i32 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    let len = (i128::from(value) * i128::from(room) / i128::from(max)) as i32;
    len.max(2)
}

fn cut(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            id: "chart-x",
            title: "Things",
            hint: String::new(),
            key_heading: "Thing",
            value_heading: "Count",
            empty: "Nothing yet.",
            more: None,
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_describe_their_numbers() {
        let c = Chart::rows(
            frame(),
            vec![
                Item::new("A", 1_500),
                Item::new("B", 750),
                Item::new("C", 0),
            ],
        );
        assert_eq!(c.bars[0].width, WIDTH - LABEL_WIDTH - VALUE_ROOM);
        assert_eq!(c.bars[1].width * 2, c.bars[0].width);
        assert_eq!(c.bars[2].width, 0);
        assert_eq!(c.description, "Things: A 1,500, B 750, C 0.");
        assert!(c.bars[1].y > c.bars[0].y);
    }

    #[test]
    fn columns_stand_on_one_baseline() {
        let c = Chart::columns(
            frame(),
            (1..=12).map(|i| Item::new(format!("W{i}"), i)).collect(),
        );
        assert_eq!(c.bars.len(), 12);
        let base = c.bars[0].y + c.bars[0].height;
        assert!(c.bars.iter().all(|b| b.y + b.height == base));
        assert_eq!(c.bars[11].height, PLOT_HEIGHT);
        assert!(c.bars.iter().all(|b| b.x >= 0 && b.x + b.width <= WIDTH));
    }

    #[test]
    fn nothing_to_draw_says_so() {
        let c = Chart::rows(frame(), vec![]);
        assert!(c.bars.is_empty());
        assert_eq!(c.description, "Things: Nothing yet.");
        assert!(c.height > 0);
    }

    #[test]
    fn long_labels_are_cut_in_the_drawing_only() {
        let long = "A product with a very long name indeed";
        let c = Chart::rows(frame(), vec![Item::new(long, 1)]);
        assert_eq!(c.bars[0].label, long);
        assert_eq!(c.bars[0].short_label.chars().count(), LABEL_CHARS);
        assert!(c.bars[0].short_label.ends_with('…'));
    }
}
