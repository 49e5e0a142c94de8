// diploml review page: label pasted or uploaded articles, correct the labels, download them as corpus JSONL.
// Plain JS, no build step. The server gives /model (tasks and labels), /predict and /predict/upload.
"use strict";

const state = { tasks: [], articles: [], next: 1 };
const $ = (sel, root = document) => root.querySelector(sel);

function setStatus(message, isError = false) {
  const el = $("#status");
  el.textContent = message;
  el.classList.toggle("error", isError);
}

function errorText(body, status) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) {
    return detail.map(d => (d.id !== undefined ? `${d.id}: ` : "") + (d.error || d.msg || JSON.stringify(d))).join("; ");
  }
  return detail ? String(detail) : `HTTP ${status}`;
}

async function fetchJSON(url, options) {
  const resp = await fetch(url, options);
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) throw new Error(`${resp.status}: ${errorText(body, resp.status)}`);
  return body;
}

async function loadModel() {
  try {
    const info = await fetchJSON("/model");
    // label tasks only; partner codes have their own field
    state.tasks = info.tasks.filter(t => ["single_label", "multi_label"].includes(t.kind) && t.name !== "partners");
    const name = info.path ? info.path.split("/").filter(Boolean).pop() : info.model_type;
    $("#model-info").textContent = `model ${name} (${info.model_type}, ${info.backend} backend, diploml ` +
      `${info.diploml_version}); tasks: ` + info.tasks.map(t => `${t.name} (${t.labels.length})`).join(", ");
  } catch (e) {
    $("#model-info").textContent = `model information unavailable: ${e.message}`;
  }
}

function newId() { return `pasted-${state.next++}`; }

// Pasted text: JSONL lines, several articles split by a line "---", or one article (with the headline field).
function parsePasted(title, text) {
  const lines = text.split(/\r?\n/).filter(l => l.trim());
  if (lines.length && lines.every(l => l.trim().startsWith("{"))) {
    return lines.map((line, i) => {
      let d;
      try { d = JSON.parse(line); } catch (e) { throw new Error(`line ${i + 1} is not valid JSON: ${e.message}`); }
      return { id: d.id != null && String(d.id) !== "" ? String(d.id) : newId(), title: d.title || "", text: d.text };
    });
  }
  const parts = text.split(/^[ \t]*---[ \t]*$/m).map(s => s.trim()).filter(Boolean);
  if (parts.length > 1) return parts.map(p => ({ id: newId(), title: "", text: p }));
  return [{ id: newId(), title: title.trim(), text }];
}

async function labelPasted() {
  const text = $("#text").value;
  if (!text.trim()) { setStatus("paste an article first", true); return; }
  let articles;
  try { articles = parsePasted($("#title").value, text); } catch (e) { setStatus(e.message, true); return; }
  setStatus(`labelling ${articles.length} article(s)...`);
  try {
    const records = await fetchJSON("/predict", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(articles),
    });
    records.forEach((rec, i) => addArticle(articles[i], rec));
    setStatus(`${records.length} article(s) labelled`);
  } catch (e) {
    setStatus(`could not label: ${e.message}`, true);
  }
}

async function labelFiles(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  setStatus(`uploading ${files.length} file(s)...`);
  try {
    const records = await fetchJSON("/predict/upload?include_input=1", { method: "POST", body: form });
    for (const rec of records) {
      const input = rec.input || { title: "", text: "" };
      delete rec.input;
      addArticle({ id: rec.id, title: input.title, text: input.text }, rec);
    }
    const errors = records.filter(r => r.error).length;
    setStatus(`${records.length} article(s) from ${files.length} file(s)` + (errors ? `, ${errors} with errors` : ""));
  } catch (e) {
    setStatus(`could not label the upload: ${e.message}`, true);
  }
  $("#file").value = "";
}

// Evidence spans ({start, end, mark}) as marks in the text. Spans are code-point offsets (Python strings);
// JS strings index UTF-16 units, so slice code points.
function highlighted(fullText, spans) {
  const frag = document.createDocumentFragment();
  const cps = Array.from(fullText);
  let pos = 0;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  for (const s of sorted) {
    if (s.start < pos || s.end > cps.length) continue;  // overlapping or out of range
    if (s.start > pos) frag.append(cps.slice(pos, s.start).join(""));
    s.mark.textContent = cps.slice(s.start, s.end).join("");
    frag.append(s.mark);
    pos = s.end;
  }
  if (pos < cps.length) frag.append(cps.slice(pos).join(""));
  return frag;
}

function partnerMark(m) {
  const mark = document.createElement("mark");
  const supports = m.predicted_partner !== undefined ? m.predicted_partner : m.supports_predicted_region;
  mark.className = "partner" + (supports ? " supports" : "");
  mark.dataset.code = m.code;
  mark.title = `${m.code} · ${m.region}${m.kind ? " · " + m.kind : ""}`;
  return mark;
}

// A cue phrase that supports a predicted sector ("sector_cues": models that score sectors from cues).
function cueMark(c) {
  const mark = document.createElement("mark");
  mark.className = "cue";
  mark.dataset.sector = c.label;
  mark.title = `sector cue · ${c.label}`;
  return mark;
}

function evidenceSpans(rec) {
  const partners = mentionsOf(rec).map(m => ({ start: m.start, end: m.end, mark: partnerMark(m) }));
  const cues = (rec.sector_cues || []).map(c => ({ start: c.start, end: c.end, mark: cueMark(c) }));
  return partners.concat(cues);
}

// Gazetteer mentions with spans: "mentions" (models with a partners task), or "partners" in older records.
function mentionsOf(rec) {
  const list = rec.mentions || rec.partners || [];
  return list.filter(m => m && m.code !== undefined && m.start !== undefined);
}

function predictedLabels(rec) {
  const labels = {};
  for (const t of state.tasks) {
    const v = rec[t.name];
    if (t.kind === "multi_label") labels[t.name] = (v || []).map(d => d.label);
    else labels[t.name] = v ? v.label : null;
  }
  let codes = [];
  if (Array.isArray(rec.partners) && rec.partners.length && rec.partners[0].label !== undefined) {
    codes = rec.partners.map(d => d.label);  // the model's partners task
  } else if (rec.mentions === undefined) {
    for (const m of mentionsOf(rec)) if (!codes.includes(m.code)) codes.push(m.code);
  }
  labels.partners = codes;
  return labels;
}

function taskControl(art, task) {
  const probs = (art.record.probabilities || {})[task.name] || {};
  const order = [...task.labels].sort((a, b) => (probs[b] || 0) - (probs[a] || 0));
  const fs = document.createElement("fieldset");
  fs.className = `task task-${task.name}`;
  fs.innerHTML = `<legend>${task.name}</legend>`;
  const fmt = p => (p === undefined ? "" : p.toFixed(2));
  if (task.kind !== "multi_label") {
    const sel = document.createElement("select");
    sel.className = task.name;
    sel.dataset.task = task.name;
    sel.setAttribute("aria-label", `${task.name} of ${art.id}`);
    for (const lab of order) {
      const opt = document.createElement("option");
      opt.value = lab;
      opt.textContent = `${lab} (${fmt(probs[lab])})`;
      opt.selected = lab === art.labels[task.name];
      sel.append(opt);
    }
    sel.addEventListener("change", () => { art.labels[task.name] = sel.value; refresh(art); });
    fs.append(sel);
    return fs;
  }
  const box = document.createElement("div");
  box.className = "choices";
  for (const lab of order) {
    const wrap = document.createElement("label");
    const predicted = art.predicted[task.name].includes(lab);
    wrap.className = predicted ? "predicted" : "";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.value = lab;
    cb.dataset.task = task.name;
    cb.checked = art.labels[task.name].includes(lab);
    cb.addEventListener("change", () => {
      const chosen = new Set(art.labels[task.name]);
      if (cb.checked) chosen.add(lab); else chosen.delete(lab);
      art.labels[task.name] = task.labels.filter(l => chosen.has(l));
      refresh(art);
    });
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round((probs[lab] || 0) * 40)}px`;
    const p = document.createElement("span");
    p.className = "prob";
    p.textContent = fmt(probs[lab]);
    wrap.append(cb, ` ${lab} `, bar, p);
    box.append(wrap);
  }
  fs.append(box);
  return fs;
}

function partnersControl(art) {
  const fs = document.createElement("fieldset");
  fs.className = "task task-partners";
  fs.innerHTML = "<legend>partners</legend>";
  const input = document.createElement("input");
  input.type = "text";
  input.className = "partners";
  input.setAttribute("aria-label", `partners of ${art.id}`);
  input.value = art.labels.partners.join(", ");
  input.addEventListener("input", () => {
    art.labels.partners = input.value.split(/[,;\s]+/).map(s => s.trim()).filter(Boolean);
    refresh(art);
  });
  fs.append(input);
  const scores = (art.record.probabilities || {}).partners;
  if (scores && !Array.isArray(scores)) {  // candidate codes and their probabilities, best first
    const hint = document.createElement("div");
    hint.className = "prob candidates";
    hint.textContent = "candidates: " + (Object.entries(scores).sort((a, b) => b[1] - a[1])
      .map(([c, p]) => `${c} ${p.toFixed(2)}`).join(" · ") || "none");
    fs.append(hint);
  }
  return fs;
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function refresh(art) {
  art.corrected = !same(art.labels, art.predicted);
  art.el.classList.toggle("corrected", art.corrected);
  updateCounts();
}

function updateCounts() {
  const ok = state.articles.filter(a => !a.record.error);
  const corrected = ok.filter(a => a.corrected).length;
  $("#counts").textContent = `${ok.length} labelled, ${corrected} corrected`;
}

function addArticle(input, rec) {
  const art = { id: rec.id, title: input.title || "", text: input.text || "", record: rec };
  const el = $("#article-tpl").content.firstElementChild.cloneNode(true);
  art.el = el;
  el.dataset.id = art.id;
  $(".aid", el).textContent = art.id;
  const fullText = art.title ? `${art.title}\n\n${art.text}` : art.text;
  if (rec.error) {
    const err = $(".error", el);
    err.hidden = false;
    err.textContent = `error: ${rec.error}`;
    $(".text", el).textContent = fullText;
  } else {
    art.predicted = predictedLabels(rec);
    art.labels = JSON.parse(JSON.stringify(art.predicted));
    $(".text", el).append(highlighted(fullText, evidenceSpans(rec)));
    const labels = $(".labels", el);
    for (const t of state.tasks) labels.append(taskControl(art, t));
    labels.append(partnersControl(art));
  }
  state.articles.push(art);
  $("#articles").append(el);
  $("#review").hidden = false;
  updateCounts();
}

// One line per article in the corpus schema: id, title, text, each task's label(s), partners.
function correctionsJSONL(onlyCorrected) {
  return state.articles
    .filter(a => !a.record.error && (!onlyCorrected || a.corrected))
    .map(a => {
      const rec = { id: a.id, title: a.title, text: a.text };
      for (const t of state.tasks) rec[t.name] = a.labels[t.name];
      rec.partners = a.labels.partners;
      return JSON.stringify(rec);
    })
    .join("\n");
}

function download() {
  const body = correctionsJSONL($("#only-corrected").checked);
  if (!body) { setStatus("nothing to download yet", true); return; }
  const blob = new Blob([body + "\n"], { type: "application/x-ndjson" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "diploml-corrections.jsonl";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

$("#label-btn").addEventListener("click", labelPasted);
$("#file").addEventListener("change", e => labelFiles([...e.target.files]));
$("#download").addEventListener("click", download);
loadModel();
