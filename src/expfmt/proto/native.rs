//! Native (sparse) histogram buckets as the Pushgateway's JSON API shows them.
//!
//! Owns the decoding of the native parts of a stored `Histogram` message and
//! the bucket boundaries of each schema, following prometheus/pushgateway
//! ≥ 1.8 (`histogram.GetAPIBuckets`) and prometheus/prometheus
//! `model/histogram` (`regularBucketIterator`, `getBound`): boundary
//! `base^idx` with `base = 2^(2^-schema)`, taken from Go's precomputed table so
//! the printed bounds match Go digit for digit.

use std::fmt;

use super::wire::{fields, packed_varints, zigzag32, zigzag64, Val};
use crate::gofmt::go_float_string;

/// A bucket or total count: integer for integer histograms, float for float
/// histograms. `Display` prints it as Go's `fmt.Sprint` does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NativeCount {
    /// Count of an integer histogram.
    Int(u64),
    /// Count of a float histogram.
    Float(f64),
}

impl fmt::Display for NativeCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeCount::Int(v) => write!(f, "{v}"),
            NativeCount::Float(v) => f.write_str(&go_float_string(*v)),
        }
    }
}

/// What `GET /api/v1/metrics` shows of a native histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHistogram {
    /// `"count"`.
    pub count: NativeCount,
    /// `"sum"`.
    pub sum: f64,
    /// `"buckets"`: `(boundary_rule, lower, upper, count)`, boundary rule
    /// 0 = `(a,b]`, 1 = `[a,b)`, 2 = `(a,b)`, 3 = `[a,b]`. Negative buckets
    /// first (most negative first), then the zero bucket, then positive ones
    /// (ascending); empty buckets are left out.
    pub buckets: Vec<(u8, f64, f64, NativeCount)>,
}

/// The merged `Histogram` sub-message of a metric's value fields.
#[derive(Default)]
struct Hist {
    count: u64,
    count_float: f64,
    sum: f64,
    schema: i32,
    zero_threshold: f64,
    zero_count: u64,
    zero_count_float: f64,
    neg_spans: Vec<(i32, u32)>,
    neg_deltas: Vec<i64>,
    neg_counts: Vec<f64>,
    pos_spans: Vec<(i32, u32)>,
    pos_deltas: Vec<i64>,
    pos_counts: Vec<f64>,
}

fn span(b: &[u8]) -> (i32, u32) {
    let mut s = (0, 0);
    for f in fields(b) {
        match (f.num, f.val) {
            (1, Val::Varint(v)) => s.0 = zigzag32(v),
            (2, Val::Varint(v)) => s.1 = v as u32,
            _ => {}
        }
    }
    s
}

fn push_deltas(out: &mut Vec<i64>, val: Val<'_>) {
    match val {
        Val::Varint(v) => out.push(zigzag64(v)),
        Val::Bytes(b) => out.extend(packed_varints(b).map_while(|v| v.map(zigzag64))),
        _ => {}
    }
}

fn push_counts(out: &mut Vec<f64>, val: Val<'_>) {
    match val {
        Val::Fixed64(bits) => out.push(f64::from_bits(bits)),
        Val::Bytes(b) => out.extend(
            b.chunks_exact(8)
                .map(|c| f64::from_bits(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))),
        ),
        _ => {}
    }
}

fn decode(raw_value: &[u8]) -> Option<Hist> {
    let mut h: Option<Hist> = None;
    for part in fields(raw_value).filter(|f| f.num == 7).filter_map(|f| f.bytes()) {
        let h = h.get_or_insert_with(Hist::default);
        for f in fields(part) {
            match (f.num, f.val) {
                (1, Val::Varint(v)) => h.count = v,
                (2, Val::Fixed64(b)) => h.sum = f64::from_bits(b),
                (4, Val::Fixed64(b)) => h.count_float = f64::from_bits(b),
                (5, Val::Varint(v)) => h.schema = zigzag32(v),
                (6, Val::Fixed64(b)) => h.zero_threshold = f64::from_bits(b),
                (7, Val::Varint(v)) => h.zero_count = v,
                (8, Val::Fixed64(b)) => h.zero_count_float = f64::from_bits(b),
                (9, Val::Bytes(b)) => h.neg_spans.push(span(b)),
                (10, v) => push_deltas(&mut h.neg_deltas, v),
                (11, v) => push_counts(&mut h.neg_counts, v),
                (12, Val::Bytes(b)) => h.pos_spans.push(span(b)),
                (13, v) => push_deltas(&mut h.pos_deltas, v),
                (14, v) => push_counts(&mut h.pos_counts, v),
                _ => {}
            }
        }
    }
    h
}

/// Go's `regularBucketIterator`: calls `f(index, bucket position)` for each
/// bucket the spans describe, as long as there are buckets.
fn walk(spans: &[(i32, u32)], n_buckets: usize, mut f: impl FnMut(i32, usize)) {
    let (mut spans_idx, mut idx_in_span, mut buckets_idx, mut curr_idx) = (0, 0u32, 0, 0i32);
    while let Some(&first) = spans.get(spans_idx) {
        let mut span = first;
        curr_idx = if buckets_idx == 0 { span.0 } else { curr_idx.wrapping_add(1) };
        while idx_in_span >= span.1 {
            idx_in_span = 0;
            spans_idx += 1;
            let Some(&next) = spans.get(spans_idx) else { return };
            span = next;
            curr_idx = curr_idx.wrapping_add(span.0);
        }
        if buckets_idx >= n_buckets {
            return;
        }
        f(curr_idx, buckets_idx);
        idx_in_span += 1;
        buckets_idx += 1;
    }
}

/// Go's `math.Ldexp` for a positive normal `x`.
fn ldexp(x: f64, exp: i64) -> f64 {
    let bits = x.to_bits();
    let mut e = exp.clamp(-10_000, 10_000) + ((bits >> 52) & 0x7ff) as i64 - 1023;
    if e < -1075 {
        return 0.0;
    }
    if e > 1023 {
        return f64::INFINITY;
    }
    let mut m = 1.0;
    if e < -1022 {
        e += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    m * f64::from_bits((bits & !(0x7ff << 52)) | (((e + 1023) as u64) << 52))
}

/// Go's `getBound` for an exponential schema (−4 ≤ `schema` ≤ 8).
fn bound(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(idx) << -schema;
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_idx = idx & ((1 << schema) - 1);
    let frac = EXPONENTIAL_BOUNDS[(frac_idx << (8 - schema)) as usize];
    let exp = (i64::from(idx) >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Go's `makeBucket`: the boundary rule and bounds of bucket `idx`.
fn bucket(
    idx: i32,
    schema: i32,
    positive: bool,
    count: NativeCount,
) -> (u8, f64, f64, NativeCount) {
    let (lower, upper) = if positive {
        (bound(idx.wrapping_sub(1), schema), bound(idx, schema))
    } else {
        (-bound(idx, schema), -bound(idx.wrapping_sub(1), schema))
    };
    let rule = match (lower < 0.0, upper > 0.0) {
        (true, true) => 3,
        (true, false) => 1,
        (false, true) => 0,
        (false, false) => 2,
    };
    (rule, lower, upper, count)
}

/// The native buckets of a metric's stored value fields (see
/// [`crate::expfmt::Metric::raw_value`]) as the API shows them, or `None` if
/// its histogram has no native spans (a classic histogram: show its classic
/// buckets) or no histogram at all.
///
/// Deviation: schemas outside −4..=8 (which make Go's API handler panic)
/// also give `None`.
pub fn native_buckets(raw_value: &[u8]) -> Option<NativeHistogram> {
    let h = decode(raw_value)?;
    if h.neg_spans.is_empty() && h.pos_spans.is_empty() || !(-4..=8).contains(&h.schema) {
        return None;
    }
    let schema = h.schema;
    let float = h.count_float > 0.0 || h.zero_count_float > 0.0;
    let mut buckets = Vec::new();
    let side =
        |spans: &[(i32, u32)], deltas: &[i64], counts: &[f64], positive: bool, out: &mut Vec<_>| {
            if float {
                walk(spans, counts.len(), |idx, i| {
                    if counts[i] != 0.0 {
                        out.push(bucket(idx, schema, positive, NativeCount::Float(counts[i])));
                    }
                });
            } else {
                let mut curr = 0i64;
                walk(spans, deltas.len(), |idx, i| {
                    curr = curr.wrapping_add(deltas[i]);
                    if curr != 0 {
                        out.push(bucket(idx, schema, positive, NativeCount::Int(curr as u64)));
                    }
                });
            }
        };
    side(&h.neg_spans, &h.neg_deltas, &h.neg_counts, false, &mut buckets);
    buckets.reverse();
    let zero = if float {
        (h.zero_count_float != 0.0).then_some(NativeCount::Float(h.zero_count_float))
    } else {
        (h.zero_count != 0).then_some(NativeCount::Int(h.zero_count))
    };
    if let Some(count) = zero {
        buckets.push((3, -h.zero_threshold, h.zero_threshold, count));
    }
    side(&h.pos_spans, &h.pos_deltas, &h.pos_counts, true, &mut buckets);
    let count = if float { NativeCount::Float(h.count_float) } else { NativeCount::Int(h.count) };
    Some(NativeHistogram { count, sum: h.sum, buckets })
}

/// Go's `exponentialBounds[8]` (prometheus/prometheus `model/histogram`):
/// `2^(i/256) / 2` as Go computed them. Schema `s` uses every `2^(8-s)`th
/// entry. Copied rather than computed: some entries are not the correctly
/// rounded value, and the API prints them digit for digit.
#[allow(clippy::approx_constant, clippy::excessive_precision)]
static EXPONENTIAL_BOUNDS: [f64; 256] = [
    0.5,
    0.5013556375251013,
    0.5027149505564014,
    0.5040779490592088,
    0.5054446430258502,
    0.5068150424757447,
    0.5081891574554764,
    0.509566998038869,
    0.5109485743270583,
    0.5123338964485679,
    0.5137229745593818,
    0.5151158188430205,
    0.5165124395106142,
    0.5179128468009786,
    0.5193170509806894,
    0.520725062344158,
    0.5221368912137069,
    0.5235525479396449,
    0.5249720429003435,
    0.526395386502313,
    0.5278225891802786,
    0.5292536613972564,
    0.5306886136446309,
    0.5321274564422321,
    0.5335702003384117,
    0.5350168559101208,
    0.5364674337629877,
    0.5379219445313954,
    0.5393803988785598,
    0.5408428074966075,
    0.5423091811066545,
    0.5437795304588847,
    0.5452538663326288,
    0.5467321995364429,
    0.5482145409081883,
    0.549700901315111,
    0.5511912916539204,
    0.5526857228508706,
    0.5541842058618393,
    0.5556867516724088,
    0.5571933712979462,
    0.5587040757836845,
    0.5602188762048033,
    0.5617377836665098,
    0.5632608093041209,
    0.564787964283144,
    0.5663192597993595,
    0.5678547070789026,
    0.5693943173783458,
    0.5709381019847808,
    0.572486072215902,
    0.5740382394200894,
    0.5755946149764913,
    0.5771552102951081,
    0.5787200368168754,
    0.5802891060137493,
    0.5818624293887887,
    0.5834400184762408,
    0.585021884841625,
    0.5866080400818185,
    0.5881984958251406,
    0.5897932637314379,
    0.5913923554921704,
    0.5929957828304968,
    0.5946035575013605,
    0.5962156912915756,
    0.5978321960199137,
    0.5994530835371903,
    0.6010783657263515,
    0.6027080545025619,
    0.6043421618132907,
    0.6059806996384005,
    0.6076236799902344,
    0.6092711149137041,
    0.6109230164863786,
    0.6125793968185725,
    0.6142402680534349,
    0.6159056423670379,
    0.6175755319684665,
    0.6192499490999082,
    0.620928906036742,
    0.622612415087629,
    0.6243004885946023,
    0.6259931389331581,
    0.6276903785123455,
    0.6293922197748583,
    0.6310986751971253,
    0.6328097572894031,
    0.6345254785958666,
    0.6362458516947014,
    0.637970889198196,
    0.6397006037528346,
    0.6414350080393891,
    0.6431741147730128,
    0.6449179367033329,
    0.6466664866145447,
    0.6484197773255048,
    0.6501778216898253,
    0.6519406325959679,
    0.6537082229673385,
    0.6554806057623822,
    0.6572577939746774,
    0.659039800633032,
    0.6608266388015788,
    0.6626183215798706,
    0.6644148621029772,
    0.6662162735415805,
    0.6680225691020727,
    0.6698337620266515,
    0.6716498655934177,
    0.6734708931164728,
    0.6752968579460171,
    0.6771277734684463,
    0.6789636531064505,
    0.6808045103191123,
    0.6826503586020058,
    0.6845012114872953,
    0.6863570825438342,
    0.688217985377265,
    0.690083933630119,
    0.6919549409819159,
    0.6938310211492645,
    0.6957121878859629,
    0.6975984549830999,
    0.6994898362691555,
    0.7013863456101023,
    0.7032879969095076,
    0.7051948041086352,
    0.7071067811865475,
    0.7090239421602076,
    0.7109463010845827,
    0.7128738720527471,
    0.7148066691959849,
    0.7167447066838943,
    0.718687998724491,
    0.7206365595643126,
    0.7225904034885232,
    0.7245495448210174,
    0.7265139979245261,
    0.7284837772007218,
    0.7304588970903234,
    0.7324393720732029,
    0.7344252166684908,
    0.7364164454346837,
    0.7384130729697496,
    0.7404151139112358,
    0.7424225829363761,
    0.7444354947621984,
    0.7464538641456323,
    0.7484777058836176,
    0.7505070348132126,
    0.7525418658117031,
    0.7545822137967112,
    0.7566280937263048,
    0.7586795205991071,
    0.7607365094544071,
    0.762799075372269,
    0.7648672334736434,
    0.7669409989204777,
    0.7690203869158282,
    0.7711054127039704,
    0.7731960915705107,
    0.7752924388424999,
    0.7773944698885442,
    0.7795022001189185,
    0.7816156449856788,
    0.7837348199827764,
    0.7858597406461707,
    0.7879904225539431,
    0.7901268813264122,
    0.7922691326262467,
    0.7944171921585818,
    0.7965710756711334,
    0.7987307989543135,
    0.8008963778413465,
    0.8030678282083853,
    0.805245165974627,
    0.8074284071024302,
    0.8096175675974316,
    0.8118126635086642,
    0.8140137109286738,
    0.8162207259936375,
    0.8184337248834821,
    0.820652723822003,
    0.8228777390769823,
    0.8251087869603088,
    0.8273458838280969,
    0.8295890460808079,
    0.8318382901633681,
    0.8340936325652911,
    0.8363550898207981,
    0.8386226785089391,
    0.8408964152537144,
    0.8431763167241966,
    0.8454623996346523,
    0.8477546807446661,
    0.8500531768592616,
    0.8523579048290255,
    0.8546688815502312,
    0.8569861239649629,
    0.8593096490612387,
    0.8616394738731368,
    0.8639756154809185,
    0.8663180910111553,
    0.8686669176368529,
    0.871022112577578,
    0.8733836930995842,
    0.8757516765159389,
    0.8781260801866495,
    0.8805069215187917,
    0.8828942179666361,
    0.8852879870317771,
    0.8876882462632604,
    0.890095013257712,
    0.8925083056594671,
    0.8949281411607002,
    0.8973545375015533,
    0.8997875124702672,
    0.9022270839033115,
    0.9046732696855155,
    0.9071260877501991,
    0.909585556079304,
    0.9120516927035263,
    0.9145245157024483,
    0.9170040432046711,
    0.9194902933879467,
    0.9219832844793128,
    0.9244830347552253,
    0.9269895625416926,
    0.92950288621441,
    0.9320230241988943,
    0.9345499949706191,
    0.9370838170551498,
    0.93962450902828,
    0.9421720895161669,
    0.9447265771954693,
    0.9472879907934827,
    0.9498563490882775,
    0.9524316709088368,
    0.9550139751351947,
    0.9576032806985735,
    0.9601996065815236,
    0.9628029718180622,
    0.9654133954938133,
    0.9680308967461471,
    0.9706554947643201,
    0.9732872087896164,
    0.9759260581154889,
    0.9785720620876999,
    0.9812252401044634,
    0.9838856116165875,
    0.9865531961276168,
    0.9892280131939752,
    0.9919100824251095,
    0.9945994234836328,
    0.9972960560854698,
];
