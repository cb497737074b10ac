// PIN devnet dashboard: polls /api/state every second and draws it. Vanilla JS, no
// dependencies; charts are inline SVG built by the small functions below. Every element is
// created with createElement / textContent (never innerHTML), so labels cannot inject markup.
'use strict';

(() => {
  const POLL_MS = 1000;
  const TIMEOUT_MS = 4000;
  const SVGNS = 'http://www.w3.org/2000/svg';
  const STRATEGY_COLOURS = {
    exact: '#34d399',
    heuristic: '#60a5fa',
    noisy: '#fbbf24',
    slow: '#c084fc',
    copier: '#f87171',
    random: '#94a3b8',
  };
  const PALETTE = ['#2dd4bf', '#f472b6', '#a3e635', '#fb923c', '#818cf8', '#e879f9'];
  const CONTRACTS = ['token', 'staking', 'training', 'emissions', 'settlements'];
  const STRATA = ['platinum', 'gold', 'silver', 'bronze'];

  const ui = {
    lastOk: null, // Date.now() of the last successful poll
    fetchedAt: 0, // Date.now() when the state shown was fetched
    state: null,
    seenSettlements: new Set(),
    failures: 0,
  };

  // ---- DOM helpers -------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function build(el, attrs, children) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  /** An HTML element. */
  const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
  /** An SVG element. */
  const s = (tag, attrs, ...children) => build(document.createElementNS(SVGNS, tag), attrs, children);
  const fill = (el, ...children) => el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  const setText = (id, text) => {
    const el = $(id);
    if (el.textContent !== String(text)) el.textContent = String(text);
  };

  // ---- Formatting --------------------------------------------------------------------------

  const num = (x) => {
    const n = Number(x);
    return Number.isFinite(n) ? n : 0;
  };
  const pin = (x, digits = 2) => {
    const n = Number(x);
    if (!Number.isFinite(n)) return String(x);
    return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };
  const compact = (n) => {
    const a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e3) return (n / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k';
    return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
  };
  const fixed = (x, d = 3) => num(x).toFixed(d);
  const pct = (x) => (num(x) * 100).toFixed(1) + '%';
  const int = (x) => num(x).toLocaleString('en-US');
  const two = (n) => String(n).padStart(2, '0');
  const clock = (ms) => {
    const d = new Date(ms);
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  };
  const duration = (secs) => {
    secs = Math.max(0, Math.floor(secs));
    const h = Math.floor(secs / 3600);
    const m = Math.floor((secs % 3600) / 60);
    const sec = secs % 60;
    return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
  };
  const shortHex = (x) => (x && x.length > 14 ? `${x.slice(0, 8)}…${x.slice(-6)}` : x || '–');
  const ms = (x) => (x === null || x === undefined ? '–' : `${int(x)} ms`);

  function colourOf(strategy) {
    if (STRATEGY_COLOURS[strategy]) return STRATEGY_COLOURS[strategy];
    let hash = 0;
    for (const ch of String(strategy)) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    return PALETTE[hash % PALETTE.length];
  }

  /** The smallest 1, 2 or 5 × 10^k at or above `v`. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * 0.999999) return m * p;
    return 10 * p;
  }

  // ---- Charts ------------------------------------------------------------------------------

  function emptyChart(el, text) {
    fill(el, h('div', { class: 'empty-chart' }, text));
  }

  /**
   * Horizontal bars, one row per item: `{key, label, value, colour, text, title, attrs}`
   * (`attrs`: more attributes of the bar). `opts.keyAttr` names the data- attribute carrying
   * the key (e.g. `data-miner`).
   */
  function hbars(el, items, opts) {
    if (!items.length) return emptyChart(el, opts.empty || 'no data yet');
    const W = 600, labelW = opts.labelW || 120, valueW = 96, rowH = 26, top = 6, axisH = 20;
    const max = opts.max || niceMax(Math.max(...items.map((i) => i.value)));
    const plotW = W - labelW - valueW;
    const x = (v) => labelW + (plotW * Math.max(0, Math.min(v, max))) / max;
    const H = top + items.length * rowH + axisH;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title || '' });
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      svg.append(
        s('line', { class: 'grid', x1: x(v), x2: x(v), y1: top, y2: H - axisH }),
        s('text', { x: x(v), y: H - 6, 'text-anchor': 'middle' }, opts.tick ? opts.tick(v) : compact(v)),
      );
    }
    items.forEach((it, i) => {
      const y = top + i * rowH;
      const key = { [opts.keyAttr]: it.key };
      svg.append(
        s('text', { class: 'label', x: labelW - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end', ...key }, it.label),
        s('rect', { class: 'track', x: labelW, y: y + 4, width: plotW, height: rowH - 8, rx: 3 }),
        s('rect', {
          class: 'bar', ...key, ...(it.attrs || {}), 'data-value': it.value,
          x: labelW, y: y + 4, width: Math.max(x(it.value) - labelW, it.value > 0 ? 1.5 : 0), height: rowH - 8, rx: 3,
          fill: it.colour,
        }, s('title', {}, it.title || `${it.label}: ${it.text}`)),
        s('text', { class: 'value', x: x(it.value) + 6, y: y + rowH / 2 + 4 }, it.text),
      );
    });
    fill(el, svg);
  }

  /**
   * Horizontal grouped bars: `groups` = `[{key, label, values: [..]}]`, one bar per series
   * (`[{name, colour, format}]`), all on the scale 0 … `opts.max`.
   */
  function groupedHbars(el, groups, series, opts) {
    if (!groups.length) return emptyChart(el, opts.empty || 'no data yet');
    const W = 600, labelW = opts.labelW || 120, valueW = 70, barH = 9, gap = 2, groupGap = 12, top = 6, axisH = 20;
    const groupH = series.length * (barH + gap) + groupGap;
    const max = opts.max || 1;
    const plotW = W - labelW - valueW;
    const x = (v) => labelW + (plotW * Math.max(0, Math.min(v, max))) / max;
    const H = top + groups.length * groupH + axisH;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title || '' });
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      svg.append(
        s('line', { class: 'grid', x1: x(v), x2: x(v), y1: top, y2: H - axisH }),
        s('text', { x: x(v), y: H - 6, 'text-anchor': 'middle' }, opts.tick ? opts.tick(v) : compact(v)),
      );
    }
    groups.forEach((g, i) => {
      const y0 = top + i * groupH;
      const inner = series.length * (barH + gap) - gap;
      const key = { [opts.keyAttr]: g.key };
      svg.append(s('text', { class: 'label', x: labelW - 8, y: y0 + inner / 2 + 4, 'text-anchor': 'end', ...key }, g.label));
      series.forEach((se, j) => {
        const v = num(g.values[j]);
        const y = y0 + j * (barH + gap);
        const text = se.format ? se.format(v) : fixed(v);
        svg.append(
          s('rect', {
            class: 'bar', ...key, 'data-series': se.name, 'data-value': v,
            x: labelW, y, width: Math.max(x(v) - labelW, v > 0 ? 1.5 : 0), height: barH, rx: 2, fill: se.colour,
          }, s('title', {}, `${g.label} — ${se.name}: ${text}`)),
          s('text', { class: 'value', x: x(v) + 5, y: y + barH - 1, style: 'font-size:10px' }, text),
        );
      });
    });
    fill(el, svg);
  }

  /**
   * Vertical bars: `items` = `[{key, label, value, colour, title}]`; `opts.line` (optional)
   * = `{values: [0..1], colour, ref, refLabel}` drawn on a right-hand 0–100 % axis.
   */
  function vbars(el, items, opts) {
    if (!items.length) return emptyChart(el, opts.empty || 'no data yet');
    const W = 600, H = 230, left = 52, right = opts.line ? 44 : 14, top = 12, bottom = 34;
    const plotW = W - left - right, plotH = H - top - bottom;
    const max = niceMax(Math.max(...items.map((i) => i.value)));
    const y = (v) => top + plotH - (plotH * Math.max(0, Math.min(v, max))) / max;
    const band = plotW / items.length;
    const barW = Math.max(2, Math.min(band * 0.72, 48));
    const cx = (i) => left + band * i + band / 2;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title || '' });
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      svg.append(
        s('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }),
        s('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, compact(v)),
      );
    }
    if (opts.yLabel) {
      svg.append(s('text', { x: 12, y: top + plotH / 2, transform: `rotate(-90 12 ${top + plotH / 2})`, 'text-anchor': 'middle' }, opts.yLabel));
    }
    const every = Math.max(1, Math.ceil(items.length / 16));
    items.forEach((it, i) => {
      svg.append(
        s('rect', {
          class: 'bar', [opts.keyAttr]: it.key, 'data-value': it.value,
          x: cx(i) - barW / 2, y: y(it.value), width: barW, height: Math.max(0, top + plotH - y(it.value)), rx: 2,
          fill: it.colour,
        }, s('title', {}, it.title || `${it.label}: ${it.value}`)),
      );
      if (i % every === 0 || i === items.length - 1) {
        svg.append(s('text', { x: cx(i), y: H - bottom + 16, 'text-anchor': 'middle' }, it.label));
      }
    });
    svg.append(s('line', { class: 'axis', x1: left, x2: W - right, y1: top + plotH, y2: top + plotH }));
    if (opts.xLabel) svg.append(s('text', { x: left + plotW / 2, y: H - 2, 'text-anchor': 'middle' }, opts.xLabel));
    if (opts.line) {
      const ly = (v) => top + plotH - plotH * Math.max(0, Math.min(v, 1));
      for (const t of [0, 0.5, 1]) {
        svg.append(s('text', { x: W - right + 6, y: ly(t) + 4 }, `${t * 100}%`));
      }
      if (opts.line.ref !== undefined) {
        svg.append(
          s('line', { class: 'ref', x1: left, x2: W - right, y1: ly(opts.line.ref), y2: ly(opts.line.ref) }),
          s('text', { x: W - right + 6, y: ly(opts.line.ref) + 4, style: `fill:${opts.line.colour}` }, opts.line.refLabel || ''),
        );
      }
      const pts = opts.line.values.map((v, i) => `${cx(i)},${ly(num(v))}`).join(' ');
      svg.append(s('polyline', { points: pts, fill: 'none', stroke: opts.line.colour, 'stroke-width': 2, class: 'line' }));
      opts.line.values.forEach((v, i) => {
        svg.append(
          s('circle', { class: 'dot', cx: cx(i), cy: ly(num(v)), r: 3.2, fill: opts.line.colour, [opts.keyAttr]: items[i].key },
            s('title', {}, `${items[i].label}: support ${pct(v)}`)),
        );
      });
    }
    fill(el, svg);
  }

  /** Q (this epoch, overall) and TWF per miner on one 0–1.5 axis. */
  function qualityPlot(el, miners) {
    if (!miners.length) return emptyChart(el, 'no miners yet');
    const W = 600, labelW = 120, right = 20, rowH = 24, top = 6, axisH = 20, max = 1.5;
    const plotW = W - labelW - right;
    const x = (v) => labelW + (plotW * Math.max(0, Math.min(num(v), max))) / max;
    const H = top + miners.length * rowH + axisH;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Q and TWF per miner' });
    for (const v of [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]) {
      svg.append(
        s('line', { class: v === 1 ? 'ref' : 'grid', x1: x(v), x2: x(v), y1: top, y2: H - axisH }),
        s('text', { x: x(v), y: H - 6, 'text-anchor': 'middle' }, String(v)),
      );
    }
    miners.forEach((m, i) => {
      const cy = top + i * rowH + rowH / 2;
      const key = { 'data-miner': m.label };
      const lo = Math.min(num(m.mean_q_epoch), num(m.mean_q), num(m.twf));
      const hi = Math.max(num(m.mean_q_epoch), num(m.mean_q), num(m.twf));
      svg.append(
        s('text', { class: 'label', x: labelW - 8, y: cy + 4, 'text-anchor': 'end', ...key }, m.label),
        s('line', { x1: x(lo), x2: x(hi), y1: cy, y2: cy, stroke: colourOf(m.strategy), 'stroke-width': 2, opacity: 0.45 }),
        s('path', {
          class: 'dot twf', ...key, 'data-value': m.twf,
          d: `M${x(m.twf)} ${cy - 6} L${x(m.twf) + 6} ${cy} L${x(m.twf)} ${cy + 6} L${x(m.twf) - 6} ${cy} Z`, fill: '#f59e0b',
        }, s('title', {}, `${m.label}: TWF ${fixed(m.twf)}`)),
        s('circle', {
          class: 'dot q', ...key, 'data-value': m.mean_q, cx: x(m.mean_q), cy, r: 5, fill: 'none', stroke: '#38bdf8', 'stroke-width': 2,
        }, s('title', {}, `${m.label}: Q overall ${fixed(m.mean_q)}`)),
        s('circle', {
          class: 'dot q-epoch', ...key, 'data-value': m.mean_q_epoch, cx: x(m.mean_q_epoch), cy, r: 4, fill: '#38bdf8',
        }, s('title', {}, `${m.label}: Q this epoch ${fixed(m.mean_q_epoch)}`)),
      );
    });
    fill(el, svg);
  }

  /** One stacked bar of the intents by state. */
  function intentsBar(el, intents) {
    const parts = [
      ['pending', '#60a5fa'], ['settled', '#34d399'], ['unfilled', '#fbbf24'], ['expired', '#f87171'],
    ];
    const total = parts.reduce((a, [k]) => a + num(intents[k]), 0);
    const W = 600, H = 14;
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'intents by state', preserveAspectRatio: 'none' });
    svg.append(s('rect', { class: 'track', x: 0, y: 0, width: W, height: H, rx: 4 }));
    let x0 = 0;
    if (total > 0) {
      for (const [k, colour] of parts) {
        const w = (W * num(intents[k])) / total;
        if (w > 0) svg.append(s('rect', { class: 'bar', 'data-intents': k, x: x0, y: 0, width: w, height: H, fill: colour }, s('title', {}, `${k}: ${intents[k]}`)));
        x0 += w;
      }
    }
    fill(el, svg);
  }

  // ---- Sections ----------------------------------------------------------------------------

  function renderHeader(st) {
    const n = st.network || {};
    const epochEl = $('epoch');
    epochEl.dataset.epoch = String(n.epoch);
    setText('epoch', n.epoch);
    const length = num(n.epoch_length_s);
    const since = (Date.now() - ui.fetchedAt) / 1000;
    const elapsed = Math.min(length, num(n.epoch_elapsed_s) + since);
    setText('countdown', length ? duration(length - elapsed) : '–');
    $('countdown').dataset.remaining = String(Math.max(0, Math.round(length - elapsed)));
    $('epoch-progress').style.width = length ? `${(100 * elapsed) / length}%` : '0';
    setText('chain', n.chain_id ? `${n.chain} · ${n.chain_id}` : n.chain || '–');
    $('chain').dataset.chain = n.chain || '';
    setText('uptime', n.started_at_ms ? duration((Date.now() - n.started_at_ms) / 1000) : '–');
    const c = n.contracts || {};
    const current = $('contracts');
    const key = CONTRACTS.map((k) => c[k]).join();
    if (current.dataset.key !== key) {
      current.dataset.key = key;
      fill(current, CONTRACTS.map((k) => h('div', {}, h('dt', {}, k), h('dd', { 'data-contract': k, title: c[k] || '' }, c[k] || '–'))));
    }
  }

  function renderKpis(st) {
    setText('kpi-settlements', int(st.settlements_total));
    const latest = st.settlements[0];
    setText('kpi-settlements-sub', latest ? `latest ${clock(latest.time_ms)} · epoch ${latest.epoch}` : 'none yet');
    const answered = st.miners.reduce((a, m) => a + num(m.answered), 0);
    const sent = st.miners.reduce((a, m) => a + num(m.sent), 0);
    setText('kpi-answers', int(answered));
    setText('kpi-answers-sub', sent ? `of ${int(sent)} sent (${pct(answered / sent)})` : 'none sent yet');
    const lat = st.latency || {};
    setText('kpi-round', lat.round_p50_ms == null ? '–' : `${int(lat.round_p50_ms)} / ${int(lat.round_p99_ms)} ms`);
    const minted = st.emissions.reduce((a, e) => a + num(e.minted), 0);
    const finalised = st.emissions.filter((e) => e.finalised).length;
    setText('kpi-emitted', compact(minted));
    $('kpi-emitted').title = `${pin(minted)} PIN`;
    setText('kpi-emitted-sub', `${finalised} of ${st.emissions.length} epochs final`);

    const it = st.intents || {};
    fill($('intents'), ['submitted', 'pending', 'settled', 'unfilled', 'expired'].map((k) =>
      h('span', { id: `intents-${k}`, 'data-count': num(it[k]) }, h('b', {}, int(it[k])), k)));
    intentsBar($('chart-intents'), it);

    const t = st.training;
    const tr = $('training');
    if (!t) {
      fill(tr, h('span', { class: 'sub', 'data-training': 'none' }, 'no training run'));
    } else {
      fill(tr,
        h('b', { 'data-training': t.run_id }, `run ${t.run_id}`),
        h('span', {}, t.model),
        h('span', { class: `badge ${t.status}` }, t.status),
        h('span', { title: (t.nodes || []).join(', ') }, `${(t.nodes || []).length} nodes`),
        h('span', {}, `${int(t.attestations)} attestations`),
        h('span', {}, `budget ${pin(t.budget, 0)} PIN`));
    }
  }

  function renderCharts(st) {
    const miners = st.miners;
    hbars($('chart-earned'), miners.map((m) => ({
      key: m.label, label: m.label, value: num(m.earned), colour: colourOf(m.strategy),
      text: pin(m.earned), title: `${m.label} (${m.strategy}): ${pin(m.earned)} PIN earned, ${pin(m.claimed)} claimed`,
    })), { keyAttr: 'data-miner', title: 'PIN earned per miner', empty: 'no miners yet' });
    const strategies = [...new Set(miners.map((m) => m.strategy))];
    fill($('legend-strategy'), strategies.map((k) =>
      h('span', { class: 'key', 'data-strategy': k }, h('i', { style: `background:${colourOf(k)}` }), k)));

    qualityPlot($('chart-quality'), miners);

    hbars($('chart-pmu'), miners.map((m) => ({
      key: m.label, label: m.label, value: num(m.pmu), colour: colourOf(m.strategy),
      text: `${fixed(m.pmu, 2)} · ${m.stratum}`, attrs: { 'data-stratum': m.stratum },
      title: `${m.label} (${m.stratum}): PMU ${fixed(m.pmu, 2)}, score ${fixed(m.score, 2)} last epoch`,
    })), { keyAttr: 'data-miner', title: 'PMU and stratum per miner', empty: 'no miners yet' });
    const strata = STRATA.map((k) => [k, miners.filter((m) => m.stratum === k).length]).filter(([, n]) => n > 0);
    fill($('legend-strata'), strata.map(([k, n]) =>
      h('span', { class: 'key', 'data-stratum': k, 'data-count': n }, h('span', { class: `badge ${k}` }, k), `× ${n}`)));

    const epochs = st.emissions.slice(-24);
    vbars($('chart-emissions'), epochs.map((e) => ({
      key: e.epoch, label: String(e.epoch), value: num(e.minted), colour: e.finalised ? '#2dd4bf' : '#475569',
      title: `epoch ${e.epoch}: ${pin(e.minted)} PIN, support ${pct(e.support)}, ${e.finalised ? 'final' : 'pending'}`,
    })), {
      keyAttr: 'data-epoch', title: 'PIN minted per epoch', xLabel: 'epoch', yLabel: 'PIN', empty: 'no epoch has ended yet',
      line: { values: epochs.map((e) => e.support), colour: '#e879f9', ref: 2 / 3, refLabel: '⅔' },
    });

    const lat = st.latency || { bounds_ms: [], counts: [] };
    const bounds = lat.bounds_ms || [];
    const counts = lat.counts || [];
    const items = counts.map((c, i) => ({
      key: i < bounds.length ? `le${bounds[i]}` : 'inf',
      label: i < bounds.length ? `≤${compact(bounds[i])}` : `>${compact(bounds[bounds.length - 1] || 0)}`,
      value: num(c), colour: '#38bdf8',
      title: `${i < bounds.length ? `${i ? bounds[i - 1] : 0}–${bounds[i]} ms` : `over ${bounds[bounds.length - 1]} ms`}: ${int(c)} answers`,
    }));
    if (num(lat.answers) === 0) emptyChart($('chart-latency'), 'no answers yet');
    else vbars($('chart-latency'), items, { keyAttr: 'data-bucket', title: 'answer latency histogram', xLabel: 'ms', yLabel: 'answers' });
    setText('round-p50', ms(lat.round_p50_ms));
    setText('round-p99', ms(lat.round_p99_ms));
    setText('latency-count', `${int(lat.answers)} answers, ${int(lat.rounds)} rounds`);

    const totalStake = st.validators.reduce((a, v) => a + num(v.stake), 0);
    groupedHbars($('chart-validators'), st.validators.map((v) => ({
      key: v.label, label: v.label,
      values: [totalStake ? num(v.stake) / totalStake : 0, v.trust, v.dividends],
    })), [
      { name: 'stake share', colour: '#818cf8', format: pct },
      { name: 'trust', colour: '#34d399', format: (x) => fixed(x) },
      { name: 'dividends', colour: '#fbbf24', format: pct },
    ], { keyAttr: 'data-validator', max: 1, tick: (v) => `${Math.round(v * 100)}%`, title: 'validators', empty: 'no validators yet' });
  }

  const td = (text, attrs) => h('td', attrs || {}, text);
  const tdn = (text, attrs) => h('td', { class: 'n', ...(attrs || {}) }, text);
  const idCell = (hex, attr) => h('td', {}, h('code', { class: 'id', title: hex || '', ...(attr || {}) }, hex || '–'));
  const emptyRow = (cols, text) => h('tr', { class: 'empty' }, h('td', { class: 'empty', colspan: cols }, text));

  function renderTables(st) {
    fill($('miners-table').tBodies[0], st.miners.length ? st.miners.map((m) => h('tr', { 'data-miner': m.label },
      h('td', {}, h('span', { class: 'swatch', style: `background:${colourOf(m.strategy)}` }), m.label),
      td(m.strategy),
      h('td', {}, h('span', { class: `badge ${STRATA.includes(m.stratum) ? m.stratum : ''}`, 'data-stratum': m.stratum }, m.stratum)),
      tdn(`${int(m.answered)}/${int(m.sent)}`),
      tdn(fixed(m.mean_q_epoch)),
      tdn(fixed(m.mean_q)),
      tdn(fixed(m.twf, 2)),
      tdn(fixed(m.pmu, 2)),
      tdn(fixed(m.score, 2)),
      tdn(pin(m.earned), { title: `${m.earned} PIN (+${m.earned_last_epoch} in the latest root)`, 'data-earned': m.earned }),
      tdn(pin(m.claimed), { title: `${m.claimed} PIN` }),
      h('td', {}, h('code', {}, m.endpoint)),
      idCell(m.address))) : emptyRow(13, 'no miners yet'));

    const settled = $('settlements-table').tBodies[0];
    const fresh = ui.seenSettlements.size > 0;
    const seen = new Set();
    fill(settled, st.settlements.length ? st.settlements.map((x) => {
      seen.add(x.challenge_id);
      const isNew = fresh && !ui.seenSettlements.has(x.challenge_id);
      const parties = x.parties || [];
      return h('tr', { 'data-challenge-id': x.challenge_id, 'data-epoch': x.epoch, class: isNew ? 'new' : null },
        td(clock(x.time_ms)),
        tdn(x.epoch),
        idCell(x.challenge_id),
        td(String(x.class).replace(/_/g, ' ')),
        h('td', { title: parties.join(', ') }, parties.length > 3 ? `${parties.slice(0, 3).join(', ')} +${parties.length - 3}` : parties.join(', ')),
        tdn(num(x.welfare).toLocaleString('en-US', { maximumFractionDigits: 3 })),
        h('td', { title: x.winner }, h('span', { class: 'swatch', style: `background:${colourOf(minerStrategy(st, x.winner_label))}` }), x.winner_label),
        td(x.validator),
        idCell(x.tx_hash));
    }) : emptyRow(9, 'no settlement published yet'));
    ui.seenSettlements = seen;

    fill($('validators-table').tBodies[0], st.validators.length ? st.validators.map((v) => h('tr', { 'data-validator': v.label },
      td(v.label),
      tdn(pin(v.stake, 0)),
      tdn(fixed(v.trust)),
      tdn(pct(v.dividends)),
      tdn(pin(v.earned)),
      tdn(v.last_committed ?? '–'),
      tdn(v.last_revealed ?? '–'),
      tdn(int(v.challenges_sent)),
      idCell(v.address))) : emptyRow(9, 'no validators yet'));

    fill($('emissions-table').tBodies[0], st.emissions.length ? st.emissions.slice().reverse().map((e) => h('tr', { 'data-epoch': e.epoch },
      tdn(e.epoch),
      idCell(e.root),
      tdn(pin(e.minted)),
      tdn(pct(e.support)),
      h('td', {}, h('span', { class: `badge ${e.finalised ? 'final' : 'pending'}` }, e.finalised ? 'final' : 'pending')),
      tdn(int(e.claims)))) : emptyRow(6, 'no epoch has ended yet'));

    fill($('events-table').tBodies[0], st.events.length ? st.events.map((e) => h('tr', { 'data-level': e.level },
      td(clock(e.time_ms)),
      h('td', {}, h('span', { class: `level ${e.level}` }, e.level)),
      h('td', { class: 'text' }, e.text))) : emptyRow(3, 'no events yet'));
  }

  function minerStrategy(st, label) {
    const m = st.miners.find((x) => x.label === label);
    return m ? m.strategy : '';
  }

  function isEmpty(st) {
    return !st.miners.length && !st.validators.length && !st.settlements.length && !st.emissions.length;
  }

  function render() {
    const st = ui.state;
    if (!st) return;
    renderHeader(st);
    const waiting = isEmpty(st);
    document.body.dataset.state = waiting ? 'waiting' : 'live';
    $('loading').hidden = true;
    $('waiting').hidden = !waiting;
    $('main').hidden = waiting;
    if (waiting) return;
    renderKpis(st);
    renderCharts(st);
    renderTables(st);
  }

  // ---- Polling -----------------------------------------------------------------------------

  function showError(message) {
    ui.failures += 1;
    const banner = $('error-banner');
    const since = ui.lastOk ? ` Showing the state of ${clock(ui.lastOk)} (${duration((Date.now() - ui.lastOk) / 1000)} ago).` : '';
    banner.textContent = `Cannot reach the devnet: ${message}. Retrying every second.${since}`;
    banner.hidden = false;
    document.body.dataset.error = 'true';
    const status = $('status');
    status.dataset.status = 'offline';
    status.textContent = 'offline';
    if (!ui.state) {
      $('loading').hidden = true;
      $('waiting').hidden = false;
      setText('waiting-text', 'The devnet has not answered yet; this page retries every second.');
    }
  }

  function clearError() {
    ui.failures = 0;
    $('error-banner').hidden = true;
    delete document.body.dataset.error;
    const status = $('status');
    status.dataset.status = 'live';
    status.textContent = 'live';
    setText('waiting-text', 'No miner, validator or settlement has been reported yet; this page refreshes every second.');
  }

  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch('/api/state', { cache: 'no-store', signal: ctl.signal });
      if (!res.ok) throw new Error(`/api/state answered ${res.status} ${res.statusText}`.trim());
      const st = await res.json();
      for (const k of ['miners', 'validators', 'settlements', 'emissions', 'events']) st[k] = st[k] || [];
      ui.state = st;
      ui.fetchedAt = Date.now();
      ui.lastOk = ui.fetchedAt;
      clearError();
      render();
      setText('updated', `updated ${clock(ui.lastOk)}`);
    } catch (e) {
      showError(e.name === 'AbortError' ? 'no answer within 4 s' : e.message || String(e));
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MS);
    }
  }

  // The countdown moves between polls too.
  setInterval(() => { if (ui.state) renderHeader(ui.state); }, 250);
  poll();
})();
