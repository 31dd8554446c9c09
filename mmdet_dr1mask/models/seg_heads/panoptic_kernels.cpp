// CPU kernels of DR1Mask's panoptic post-processing (panoptic_kernels.py loads them):
// the arg-max map of AlignedArgmax (aligned_argmax.py), the replacement of some channels'
// pixels and the painting of a value per channel, each one pass over the output image with
// per-channel pixel counts on the way; from DR1PanopticHead (dr1_panoptic_head.py) the
// steps from the arg-max map to the panoptic map in one call, the duplicate filter with
// the masks' areas, and the position prior of its thing channels. Each equals its tensor
// form there; the tests compare them.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

namespace {

// The geometry of the resampling: for each output row (column) the lower and upper
// corner row (column) of its cell on the basis and the upper corner's weight.
struct Axis {
  const int64_t* lo;
  const int64_t* hi;
  const float* weight;
  int64_t size;
};

Axis axis(const at::Tensor& lo, const at::Tensor& hi, const at::Tensor& weight) {
  TORCH_CHECK(lo.dtype() == at::kLong && hi.dtype() == at::kLong &&
              weight.dtype() == at::kFloat && lo.is_contiguous() && hi.is_contiguous() &&
              weight.is_contiguous(), "AlignedArgmax kernel: bad geometry tables");
  return {lo.data_ptr<int64_t>(), hi.data_ptr<int64_t>(), weight.data_ptr<float>(),
          lo.numel()};
}

// Arg-max over channels [0, n) of the bilinear values at output pixel (y, x); the first
// channel on ties, as torch.max.
inline int64_t argmax_at(const float* v, int64_t n, int64_t plane, int64_t w, const Axis& ay,
                         const Axis& ax, int64_t y, int64_t x) {
  const float wy = ay.weight[y], wx = ax.weight[x];
  const float w00 = (1 - wy) * (1 - wx), w01 = (1 - wy) * wx, w10 = wy * (1 - wx),
              w11 = wy * wx;
  const int64_t i00 = ay.lo[y] * w + ax.lo[x], i01 = ay.lo[y] * w + ax.hi[x],
                i10 = ay.hi[y] * w + ax.lo[x], i11 = ay.hi[y] * w + ax.hi[x];
  int64_t best = 0;
  float top = 0;
  for (int64_t c = 0; c < n; ++c) {
    const float* p = v + c * plane;
    const float value = p[i00] * w00 + p[i01] * w01 + p[i10] * w10 + p[i11] * w11;
    if (c == 0 || value > top) {
      top = value;
      best = c;
    }
  }
  return best;
}

// The channels that may win in the cells of one cell row, with their corner values: cell
// i's n = start[i + 1] - start[i] channels are ids[start[i]:start[i + 1]] and its corner
// values four blocks of n floats from values[4 * start[i]] on, (top, left), (top, right),
// (bottom, left), (bottom, right): a pixel's values are then one vectorised loop.
struct Contenders {
  std::vector<int64_t> ids;
  std::vector<float> values;
};

// Appends the channels that may win somewhere in the cell with corners i00, i01, i10, i11
// (flat indices into each (h, w) plane of the logits ``v``), in increasing order: at every
// point of the cell the winner's value is at least L, the largest smallest corner of the
// four corner ``winners`` (bilinear values are convex combinations of the corners), so a
// channel whose largest corner lies below L cannot win there. The margin keeps a channel
// within float rounding of L.
void add_contenders(const float* v, int64_t C, int64_t plane, int64_t i00, int64_t i01,
                    int64_t i10, int64_t i11, const int32_t* winners, Contenders& list) {
  float floor = 0;
  for (int k = 0; k < 4; ++k) {
    const float* p = v + winners[k] * plane;
    const float low = std::min(std::min(p[i00], p[i01]), std::min(p[i10], p[i11]));
    if (k == 0 || low > floor) floor = low;
  }
  const size_t first = list.ids.size();
  for (int64_t c = 0; c < C; ++c) {
    const float* p = v + c * plane;
    const float high = std::max(std::max(p[i00], p[i01]), std::max(p[i10], p[i11]));
    if (!(high + 1e-5f * (std::fabs(high) + std::fabs(floor)) < floor)) list.ids.push_back(c);
  }
  const size_t n = list.ids.size() - first;
  list.values.resize(4 * list.ids.size());
  float* block = list.values.data() + 4 * first;
  for (size_t k = 0; k < n; ++k) {
    const float* p = v + list.ids[first + k] * plane;
    block[k] = p[i00];
    block[n + k] = p[i01];
    block[2 * n + k] = p[i10];
    block[3 * n + k] = p[i11];
  }
}

// The winner among a cell's n contenders at corner weights w00 ... w11; the first on ties,
// as torch.max. ``scratch`` holds at least n floats.
inline int64_t winner(const int64_t* ids, const float* corners, int64_t n, float w00,
                      float w01, float w10, float w11, float* scratch) {
  const float *a = corners, *b = corners + n, *c = corners + 2 * n, *d = corners + 3 * n;
  for (int64_t k = 0; k < n; ++k) scratch[k] = a[k] * w00 + b[k] * w01 + c[k] * w10 + d[k] * w11;
  int64_t best = 0;
  for (int64_t k = 1; k < n; ++k)
    if (scratch[k] > scratch[best]) best = k;
  return ids[best];
}

// Per-channel counts of the rows a chunk painted, added to the total under a lock.
void add_counts(std::mutex& lock, int64_t* total, const std::vector<int64_t>& local) {
  std::lock_guard<std::mutex> guard(lock);
  for (size_t c = 0; c < local.size(); ++c) total[c] += local[c];
}

}  // namespace

// (H_o, W_o) int64 channel map and (C,) int64 pixel counts of the arg-max over channels of
// (C, h, w) float32 logits resampled bilinearly at the output pixels. The arg-max is taken
// at the basis pixels first; a pixel whose cell has one winner at all four corners takes
// it (bilinear values are convex combinations of the corners), the others are resampled
// over the channels that may win in their cell (``add_contenders``).
std::vector<at::Tensor> argmax_map(const at::Tensor& logits, const at::Tensor& row_lo,
                                   const at::Tensor& row_hi, const at::Tensor& row_weight,
                                   const at::Tensor& col_lo, const at::Tensor& col_hi,
                                   const at::Tensor& col_weight) {
  TORCH_CHECK(logits.dim() == 3 && logits.dtype() == at::kFloat && logits.is_contiguous(),
              "AlignedArgmax kernel: logits must be contiguous float32 (C, h, w)");
  const Axis ay = axis(row_lo, row_hi, row_weight), ax = axis(col_lo, col_hi, col_weight);
  const int64_t C = logits.size(0), w = logits.size(2), plane = logits.size(1) * w;
  TORCH_CHECK(C > 0 && plane > 0, "AlignedArgmax kernel: no channels or an empty basis");
  const float* v = logits.data_ptr<float>();
  // the winner at each basis pixel, channel by channel over contiguous planes
  // (selects rather than branches, int32 as the floats: the compiler vectorises the loop)
  std::vector<int32_t> best_channel(plane, 0);
  std::vector<float> top(v, v + plane);
  int32_t* best = best_channel.data();
  float* highest = top.data();
  for (int32_t c = 1; c < C; ++c) {
    const float* p = v + c * plane;
    for (int64_t i = 0; i < plane; ++i) {
      const bool above = p[i] > highest[i];
      highest[i] = above ? p[i] : highest[i];
      best[i] = above ? c : best[i];
    }
  }
  const int64_t cells = std::max<int64_t>(w - 1, 1);
  at::Tensor map = at::empty({ay.size, ax.size}, logits.options().dtype(at::kLong));
  at::Tensor counts = at::zeros({C}, logits.options().dtype(at::kLong));
  int64_t* out = map.data_ptr<int64_t>();
  int64_t* total = counts.data_ptr<int64_t>();
  std::mutex lock;
  // the output columns of each cell: [first[i], first[i + 1]) (cells are in column order)
  std::vector<int64_t> first(cells + 1, ax.size);
  for (int64_t x = ax.size - 1; x >= 0; --x) first[ax.lo[x]] = x;
  for (int64_t i = cells - 1; i >= 0; --i) first[i] = std::min(first[i], first[i + 1]);
  at::parallel_for(0, ay.size, 16, [&](int64_t begin, int64_t end) {
    // per cell of the current cell row: its channel if one wins at all four corners, else
    // -1 and the channels that may win in it, list[start[i]:start[i + 1]]
    std::vector<int64_t> local(C, 0), agree(cells), start(cells + 1);
    std::vector<float> scratch(C);
    Contenders list;
    int64_t cell_row = -1;
    for (int64_t y = begin; y < end; ++y) {
      if (ay.lo[y] != cell_row) {
        cell_row = ay.lo[y];
        const int64_t top_row = ay.lo[y] * w, bottom_row = ay.hi[y] * w;
        list.ids.clear();
        list.values.clear();
        for (int64_t i = 0; i < cells; ++i) {
          const int64_t right = std::min(i + 1, w - 1);
          const int32_t a = best[top_row + i];
          const bool one = a == best[top_row + right] && a == best[bottom_row + i] &&
                           a == best[bottom_row + right];
          agree[i] = one ? a : -1;
          start[i] = static_cast<int64_t>(list.ids.size());
          if (!one) {
            const int32_t winners[4] = {a, best[top_row + right], best[bottom_row + i],
                                        best[bottom_row + right]};
            add_contenders(v, C, plane, top_row + i, top_row + right, bottom_row + i,
                           bottom_row + right, winners, list);
          }
        }
        start[cells] = static_cast<int64_t>(list.ids.size());
      }
      int64_t* row = out + y * ax.size;
      const float wy = ay.weight[y];
      for (int64_t i = 0; i < cells; ++i) {
        const int64_t x0 = first[i], x1 = first[i + 1];
        if (agree[i] >= 0) {  // the whole span of the cell in this row
          std::fill(row + x0, row + x1, agree[i]);
          local[agree[i]] += x1 - x0;
          continue;
        }
        const int64_t* ids = list.ids.data() + start[i];
        const float* corners = list.values.data() + 4 * start[i];
        const int64_t n = start[i + 1] - start[i];
        for (int64_t x = x0; x < x1; ++x) {
          const float wx = ax.weight[x];
          const int64_t channel = winner(ids, corners, n, (1 - wy) * (1 - wx), (1 - wy) * wx,
                                         wy * (1 - wx), wy * wx, scratch.data());
          row[x] = channel;
          ++local[channel];
        }
      }
    }
    add_counts(lock, total, local);
  });
  return {map, counts};
}

namespace {
// replace_channels (below) on raw arrays: the pixels of ``map`` whose channel is ``drop``
// take the arg-max over channels [0, kept) of the logits ``v``; writes the new counts.
void replace_in_place(int64_t* out, const bool* drop, int64_t C, const float* v, int64_t kept,
                      int64_t plane, int64_t w, const Axis& ay, const Axis& ax, int64_t* total) {
  std::fill(total, total + C, 0);
  std::mutex lock;
  at::parallel_for(0, ay.size, 16, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> local(C, 0);
    for (int64_t y = begin; y < end; ++y) {
      int64_t* row = out + y * ax.size;
      for (int64_t x = 0; x < ax.size; ++x) {
        if (drop[row[x]]) row[x] = argmax_at(v, kept, plane, w, ay, ax, y, x);
        ++local[row[x]];
      }
    }
    add_counts(lock, total, local);
  });
}

// to[i] = from[channels[i]] for the n pixels of a map.
template <typename T>
void paint_values(const int64_t* channels, const T* from, T* to, int64_t n) {
  at::parallel_for(0, n, 16384, [channels, from, to](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) to[i] = from[channels[i]];
  });
}
}  // namespace

// Gives every pixel of ``map`` whose channel is ``dropped`` the arg-max over the C'
// channels of ``logits`` (channels [0, C') of the map) resampled there, in place, and
// returns the (C,) int64 pixel counts of the new map.
at::Tensor replace_channels(at::Tensor map, const at::Tensor& dropped, const at::Tensor& logits,
                            const at::Tensor& row_lo, const at::Tensor& row_hi,
                            const at::Tensor& row_weight, const at::Tensor& col_lo,
                            const at::Tensor& col_hi, const at::Tensor& col_weight) {
  TORCH_CHECK(logits.dim() == 3 && logits.dtype() == at::kFloat && logits.is_contiguous(),
              "AlignedArgmax kernel: logits must be contiguous float32 (C, h, w)");
  TORCH_CHECK(map.dtype() == at::kLong && map.is_contiguous() && dropped.dtype() == at::kBool &&
              dropped.is_contiguous(), "AlignedArgmax kernel: bad map or dropped");
  const Axis ay = axis(row_lo, row_hi, row_weight), ax = axis(col_lo, col_hi, col_weight);
  const int64_t C = dropped.numel(), kept = logits.size(0);
  TORCH_CHECK(kept > 0 && kept <= C, "AlignedArgmax kernel: bad channels to replace with");
  at::Tensor counts = at::empty({C}, map.options());
  replace_in_place(map.data_ptr<int64_t>(), dropped.data_ptr<bool>(), C,
                   logits.data_ptr<float>(), kept, logits.size(1) * logits.size(2),
                   logits.size(2), ay, ax, counts.data_ptr<int64_t>());
  return counts;
}

// (H_o, W_o): ``values[map]``, the value of each pixel's channel (int32 or int64 values).
at::Tensor paint(const at::Tensor& map, const at::Tensor& values) {
  TORCH_CHECK(map.dtype() == at::kLong && map.is_contiguous() && values.dim() == 1,
              "AlignedArgmax kernel: bad map or values");
  const at::Tensor table = values.contiguous();
  at::Tensor out = at::empty(map.sizes(), values.options());
  AT_DISPATCH_INDEX_TYPES(values.scalar_type(), "paint", [&] {
    paint_values(map.data_ptr<int64_t>(), table.data_ptr<index_t>(), out.data_ptr<index_t>(),
                 map.numel());
  });
  return out;
}

// DR1PanopticHead.predict from the arg-max map on: (H_o, W_o) int32 panoptic map in
// MMDetection's encoding. The channel map (S stuff then K thing channels, with its counts)
// is changed in place. One call for what dr1_panoptic_head.py writes as
// covered_channels (a thing showing less than overlap_thr of its mask area is dropped),
// AlignedArgmax.replace (its pixels go to the best stuff channel), panoptic_values (stuff
// s -> T + s, or void T + S under stuff_area_limit pixels; shown thing k -> label +
// id * instance_offset with ids 1, 2, ... in channel order) and AlignedArgmax.paint.
at::Tensor panoptic_map(at::Tensor map, const at::Tensor& counts, const at::Tensor& thing_areas,
                        const at::Tensor& thing_labels, const at::Tensor& stuff_logits,
                        const at::Tensor& row_lo, const at::Tensor& row_hi,
                        const at::Tensor& row_weight, const at::Tensor& col_lo,
                        const at::Tensor& col_hi, const at::Tensor& col_weight,
                        int64_t num_things, double overlap_thr, int64_t stuff_area_limit,
                        int64_t instance_offset) {
  TORCH_CHECK(stuff_logits.dim() == 3 && stuff_logits.dtype() == at::kFloat &&
              stuff_logits.is_contiguous(),
              "panoptic_map kernel: stuff logits must be contiguous float32 (S, h, w)");
  const int64_t S = stuff_logits.size(0), C = counts.numel(), K = C - S;
  TORCH_CHECK(map.dtype() == at::kLong && map.is_contiguous() && counts.dtype() == at::kLong &&
              S > 0 && K >= 0 && thing_areas.numel() == K && thing_labels.numel() == K,
              "panoptic_map kernel: bad map, counts, areas or labels");
  const Axis ay = axis(row_lo, row_hi, row_weight), ax = axis(col_lo, col_hi, col_weight);
  const at::Tensor areas = thing_areas.to(at::kLong).contiguous();
  const at::Tensor labels = thing_labels.to(at::kLong).contiguous();
  std::vector<int64_t> count(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + C);
  // covered_channels: the float32 comparison of the tensor form
  std::vector<uint8_t> dropped(C, 0);
  bool any = false;
  for (int64_t k = 0; k < K; ++k) {
    const float least = static_cast<float>(overlap_thr) *
                        static_cast<float>(areas.data_ptr<int64_t>()[k]);
    dropped[S + k] = static_cast<float>(count[S + k]) < least;
    any = any || dropped[S + k];
  }
  if (any)
    replace_in_place(map.data_ptr<int64_t>(), reinterpret_cast<const bool*>(dropped.data()), C,
                     stuff_logits.data_ptr<float>(), S,
                     stuff_logits.size(1) * stuff_logits.size(2), stuff_logits.size(2), ay, ax,
                     count.data());
  // panoptic_values
  const int64_t void_value = num_things + S;
  std::vector<int32_t> values(C);
  for (int64_t s = 0; s < S; ++s)
    values[s] = static_cast<int32_t>(count[s] < stuff_area_limit ? void_value : num_things + s);
  int64_t id = 0;
  for (int64_t k = 0; k < K; ++k)
    values[S + k] = static_cast<int32_t>(
        count[S + k] > 0 ? labels.data_ptr<int64_t>()[k] + ++id * instance_offset : void_value);
  at::Tensor out = at::empty(map.sizes(), map.options().dtype(at::kInt));
  paint_values(map.data_ptr<int64_t>(), values.data(), out.data_ptr<int32_t>(), map.numel());
  return out;
}

namespace {
// Byte masks (bool bytes are 0 or 1) are counted eight bytes at a time: added as words,
// each byte a counter that stays below 256 over 255 words, then the counters are summed.
// Two words per step in independent sums, so that the additions need not wait on each
// other. Portable (no popcount instruction needed).
inline uint64_t word(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, 8);
  return value;
}

inline int64_t byte_sum(uint64_t lanes) {
  constexpr uint64_t low_bytes = 0x00FF00FF00FF00FFull, ones = 0x0001000100010001ull;
  const uint64_t pairs = (lanes & low_bytes) + ((lanes >> 8) & low_bytes);
  return static_cast<int64_t>((pairs * ones) >> 48);
}

// Pixels set in ``a`` and pixels set in both ``a`` and ``b`` in [begin, end).
struct Counts {
  int64_t area = 0, overlap = 0;
  Counts operator+(const Counts& other) const {
    return {area + other.area, overlap + other.overlap};
  }
};

Counts count_range(const uint8_t* a, const uint8_t* b, int64_t begin, int64_t end) {
  Counts counts;
  int64_t i = begin;
  while (i + 16 <= end) {
    uint64_t a0 = 0, a1 = 0, s0 = 0, s1 = 0;
    for (int block = 0; block < 255 && i + 16 <= end; ++block, i += 16) {
      const uint64_t x0 = word(a + i), x1 = word(a + i + 8);
      a0 += x0;
      a1 += x1;
      s0 += x0 & word(b + i);
      s1 += x1 & word(b + i + 8);
    }
    counts.area += byte_sum(a0) + byte_sum(a1);
    counts.overlap += byte_sum(s0) + byte_sum(s1);
  }
  for (; i < end; ++i) {
    counts.area += a[i];
    counts.overlap += a[i] & b[i];
  }
  return counts;
}

Counts mask_counts(const uint8_t* a, const uint8_t* b, int64_t n) {
  return at::parallel_reduce(
      0, n, 1 << 17, Counts(),
      [a, b](int64_t begin, int64_t end, Counts partial) {
        return partial + count_range(a, b, begin, end);
      },
      std::plus<Counts>());
}

// into |= mask over [begin, end). A function of its own with restrict pointers: written
// inside the parallel_for lambda, the loop was not vectorised once OpenMP was on (5x slower).
void or_range(uint8_t* __restrict__ into, const uint8_t* __restrict__ mask, int64_t begin,
              int64_t end) {
  for (int64_t i = begin; i < end; ++i) into[i] |= mask[i];
}
}  // namespace

// kept_things (dr1_panoptic_head.py): the (M,) int64 indices of the (K, ...) bool masks,
// sorted by score, that duplicate_things keeps with every mask a candidate, and their (M,)
// int32 areas (mask_areas), both counted in one pass per mask.
std::vector<at::Tensor> kept_things(const at::Tensor& masks, double overlap_thr) {
  TORCH_CHECK(masks.dtype() == at::kBool && masks.is_contiguous() && masks.dim() >= 1,
              "kept_things kernel: masks must be contiguous bool (K, ...)");
  const int64_t K = masks.size(0), n = K > 0 ? masks.numel() / K : 0;
  const uint8_t* data = reinterpret_cast<const uint8_t*>(masks.data_ptr<bool>());
  std::vector<uint8_t> taken(n, 0);
  std::vector<int64_t> kept;
  std::vector<int32_t> areas;
  for (int64_t k = 0; k < K; ++k) {
    const uint8_t* mask = data + k * n;
    const Counts counts = mask_counts(mask, taken.data(), n);
    // the float32 limit of the scripted loop, area * overlap_thr, against the exact count
    const float most = static_cast<float>(counts.area) * static_cast<float>(overlap_thr);
    if (!kept.empty() && static_cast<double>(counts.overlap) > most) continue;
    kept.push_back(k);
    areas.push_back(static_cast<int32_t>(counts.area));
    uint8_t* into = taken.data();
    at::parallel_for(0, n, 1 << 17, [into, mask](int64_t begin, int64_t end) {
      or_range(into, mask, begin, end);
    });
  }
  const int64_t M = static_cast<int64_t>(kept.size());
  at::Tensor kept_index = at::empty({M}, masks.options().dtype(at::kLong));
  at::Tensor kept_areas = at::empty({M}, masks.options().dtype(at::kInt));
  std::copy(kept.begin(), kept.end(), kept_index.data_ptr<int64_t>());
  std::copy(areas.begin(), areas.end(), kept_areas.data_ptr<int32_t>());
  return {kept_index, kept_areas};
}

// DR1PanopticHead's position prior, in place on the thing rows [num_stuff, C) of the
// (C, h, w) logits: each minus weight times the squared distance of every basis pixel to its
// box centre over the squared half diagonal (at least 1). The float32 operations are those
// of the tensor form (centre_distances, then weight * distance subtracted), in its order.
at::Tensor subtract_position_prior(at::Tensor logits, const at::Tensor& boxes, double weight,
                                   int64_t num_stuff) {
  TORCH_CHECK(logits.dim() == 3 && logits.dtype() == at::kFloat && logits.is_contiguous(),
              "subtract_position_prior kernel: logits must be contiguous float32 (C, h, w)");
  const int64_t K = logits.size(0) - num_stuff, h = logits.size(1), w = logits.size(2);
  TORCH_CHECK(num_stuff >= 0 && K >= 0 && boxes.dtype() == at::kFloat &&
                  boxes.is_contiguous() && boxes.numel() == 4 * K,
              "subtract_position_prior kernel: boxes must be contiguous float32 (K, 4)");
  const float* b = boxes.data_ptr<float>();
  float* things = logits.data_ptr<float>() + num_stuff * h * w;
  const float scale = static_cast<float>(weight);
  // rows of about 32 k pixels per task: the tiny models' few channels stay on one thread
  at::parallel_for(0, K * h, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(w, 1)),
                   [=](int64_t begin, int64_t end) {
    std::vector<float> dx2(w);
    int64_t last = -1;
    for (int64_t row = begin; row < end; ++row) {
      const int64_t k = row / h, y = row % h;
      const float* box = b + 4 * k;
      const float cx = (box[0] + box[2]) / 2.0f, cy = (box[1] + box[3]) / 2.0f;
      const float ex = box[2] - box[0], ey = box[3] - box[1];
      const float half_diag2 = std::max((ex * ex + ey * ey) / 4.0f, 1.0f);
      if (k != last) {
        for (int64_t x = 0; x < w; ++x) {
          const float d = static_cast<float>(x) - cx;
          dx2[x] = d * d;
        }
        last = k;
      }
      const float dy = static_cast<float>(y) - cy, dy2 = dy * dy;
      float* out = things + row * w;
      for (int64_t x = 0; x < w; ++x) {
        const float prior = scale * ((dy2 + dx2[x]) / half_diag2);
        out[x] = out[x] - prior;
      }
    }
  });
  return logits;
}
