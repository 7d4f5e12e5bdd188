// The floor-plan editor: the tables where GET /api/tables places them, moved by dragging
// (pointer events, so mouse, pen and touch alike) or by keyboard (arrow keys on a focused
// table, Enter saves, Escape puts it back); each drop is one PUT /api/tables/{id} with
// the new grid position, which the host stand's live stream then shows. A selected table's
// seats, area, shape and size are edited below the plan; tables are added and removed here.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useId, useRef, useState, type FormEvent, type KeyboardEvent, type PointerEvent } from "react";
import { tablesCreate, tablesDelete, tablesList, tablesUpdate } from "../../client/sdk.gen";
import type { AffectedBooking, TableShape, TableUpdate, TableView } from "../../client/types.gen";
import { Field } from "../../components/Field";
import { problem } from "../../errors";
import { LiveBadge, useLiveStream } from "../live";
import { Outcome, Stranded, strandedBy, strandOutcome, useAction, whole } from "./common";

const GRID_MAX = 1000; // the API's grid: positions 0 to 1000
const SIZE_MAX = 200;
const MIN_VIEW = { w: 40, h: 20 }; // the plan shows at least this much of the grid
const MARGIN = 4; // free grid beyond the furthest table, to drag into
const SHAPES: TableShape[] = ["square", "rect", "round"];
const TABLES = ["staff", "tables"];

interface Spot {
  x: number;
  y: number;
}
interface Extent {
  w: number;
  h: number;
}
interface Drag {
  id: number;
  pointer: number;
  startX: number;
  startY: number;
  origin: Spot;
  cellW: number;
  cellH: number;
  moved: boolean;
  spot: Spot;
  extent: Extent;
}

const clamp = (value: number) => Math.min(GRID_MAX, Math.max(0, value));
const same = (a: Spot, b: Spot) => a.x === b.x && a.y === b.y;

export function FloorEditor() {
  const queries = useQueryClient();
  const tables = useQuery({
    queryKey: TABLES,
    queryFn: async () => {
      const { data, error, response } = await tablesList();
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  const refetch = useCallback(() => void queries.invalidateQueries({ queryKey: TABLES }), [queries]);
  const live = useLiveStream("/api/floor/stream", ["table_changed"], refetch, refetch);
  const action = useAction(refetch);
  const [selected, setSelected] = useState<number | null>(null);
  // Moves made by keyboard and not saved yet, and drops being saved: drawn there meanwhile.
  const [drafts, setDrafts] = useState<Record<number, Spot>>({});
  const [dragging, setDragging] = useState<{ id: number; spot: Spot; extent: Extent } | null>(null);
  const [said, setSaid] = useState("");
  const drag = useRef<Drag | null>(null);
  const dropped = useRef(false);
  const plan = useRef<HTMLDivElement>(null);
  const help = useId();

  const list = tables.data ?? [];
  const spotOf = (t: TableView): Spot | null => {
    if (dragging?.id === t.id) return dragging.spot;
    if (drafts[t.id]) return drafts[t.id];
    return t.pos_x === null || t.pos_y === null ? null : { x: t.pos_x, y: t.pos_y };
  };
  const placed = list.filter((t) => spotOf(t) !== null);
  const natural: Extent = {
    w: Math.min(GRID_MAX + SIZE_MAX, Math.max(MIN_VIEW.w, ...placed.map((t) => spotOf(t)!.x + t.width + MARGIN))),
    h: Math.min(GRID_MAX + SIZE_MAX, Math.max(MIN_VIEW.h, ...placed.map((t) => spotOf(t)!.y + t.height + MARGIN))),
  };
  // While a table is dragged the scale stays as it was, so the pointer and the table agree.
  const extent = dragging?.extent ?? natural;

  const forget = (id: number) =>
    setDrafts((all) => {
      const rest = { ...all };
      delete rest[id];
      return rest;
    });

  async function place(t: TableView, spot: Spot) {
    setDrafts((all) => ({ ...all, [t.id]: spot }));
    const answer = await action.act(
      () => tablesUpdate({ path: { table_id: t.id }, body: { pos_x: spot.x, pos_y: spot.y } }),
      `Table ${t.table_number} moved to ${spot.x}, ${spot.y}.`,
    );
    const saved = answer?.data;
    if (saved) queries.setQueryData<TableView[]>(TABLES, (old) => old?.map((o) => (o.id === saved.id ? { ...o, ...saved } : o)));
    forget(t.id);
  }

  function onPointerDown(e: PointerEvent<HTMLButtonElement>, t: TableView) {
    dropped.current = false;
    const origin = spotOf(t);
    if (e.button !== 0 || !origin || !plan.current) return;
    const rect = plan.current.getBoundingClientRect();
    drag.current = {
      id: t.id,
      pointer: e.pointerId,
      startX: e.clientX,
      startY: e.clientY,
      origin,
      cellW: rect.width / extent.w,
      cellH: rect.height / extent.h,
      moved: false,
      spot: origin,
      extent,
    };
    e.currentTarget.setPointerCapture(e.pointerId);
  }

  function onPointerMove(e: PointerEvent<HTMLButtonElement>) {
    const d = drag.current;
    if (!d || d.pointer !== e.pointerId) return;
    const dx = e.clientX - d.startX;
    const dy = e.clientY - d.startY;
    if (!d.moved && Math.hypot(dx, dy) < 4) return; // a click, not a drag
    const first = !d.moved;
    d.moved = true;
    const spot = { x: clamp(d.origin.x + Math.round(dx / d.cellW)), y: clamp(d.origin.y + Math.round(dy / d.cellH)) };
    if (!first && same(spot, d.spot)) return;
    d.spot = spot;
    setDragging({ id: d.id, spot, extent: d.extent });
  }

  function onPointerUp(e: PointerEvent<HTMLButtonElement>, t: TableView) {
    const d = drag.current;
    if (!d || d.pointer !== e.pointerId) return;
    drag.current = null;
    setDragging(null);
    if (!d.moved) return; // the click that follows selects it
    dropped.current = true; // and this one's click does not toggle the selection
    setSelected(t.id);
    if (!same(d.spot, d.origin)) void place(t, d.spot);
  }

  function onPointerCancel() {
    drag.current = null;
    setDragging(null);
  }

  function onKeyDown(e: KeyboardEvent<HTMLButtonElement>, t: TableView) {
    const from = spotOf(t);
    if (!from) return;
    const step = e.shiftKey ? 5 : 1;
    const delta = ({ ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] } as Record<string, [number, number]>)[
      e.key
    ];
    if (delta) {
      e.preventDefault();
      const to = { x: clamp(from.x + delta[0]), y: clamp(from.y + delta[1]) };
      setDrafts((all) => ({ ...all, [t.id]: to }));
      setSelected(t.id);
      setSaid(`Table ${t.table_number} at ${to.x}, ${to.y}, not saved. Enter saves, Escape puts it back.`);
    } else if (e.key === "Enter" && drafts[t.id]) {
      e.preventDefault();
      setSaid("");
      void place(t, drafts[t.id]);
    } else if (e.key === "Escape" && drafts[t.id]) {
      e.preventDefault();
      forget(t.id);
      setSaid(`Table ${t.table_number} back at ${t.pos_x}, ${t.pos_y}.`);
    }
  }

  const bottom = Math.max(0, ...list.map((t) => (t.pos_y ?? 0) + t.height));
  const table = list.find((t) => t.id === selected) ?? null;
  const unplaced = list.filter((t) => t.pos_x === null || t.pos_y === null);
  return (
    <section className="panel" aria-labelledby="console-floor">
      <div className="staff-head">
        <h2 id="console-floor">Tables and floor plan</h2>
        <LiveBadge state={live} />
      </div>
      <p id={help} className="hint">
        Drag a table to move it. By keyboard: Tab to a table, move it with the arrow keys (Shift moves 5), Enter saves,
        Escape puts it back. Select a table to change its seats, area, shape or size.
      </p>
      <Outcome action={action} />
      <p aria-live="polite" className={said ? "hint" : "sr-only"}>
        {said}
      </p>
      {tables.isPending && <p role="status">Loading the tables…</p>}
      {tables.isError && <p className="form-error">{(tables.error as { message?: string }).message ?? "The tables could not be loaded."}</p>}
      <div
        ref={plan}
        className="floor floor-editor"
        style={{
          aspectRatio: `${extent.w} / ${extent.h}`,
          backgroundSize: `${100 / extent.w}% ${100 / extent.h}%`,
        }}
      >
        {placed.map((t) => {
          const spot = spotOf(t)!;
          const unsaved = drafts[t.id] !== undefined && !(dragging?.id === t.id);
          return (
            <button
              key={t.id}
              type="button"
              data-table={t.table_number}
              data-x={spot.x}
              data-y={spot.y}
              className={`table-box edit ${t.status}${t.shape === "round" ? " round" : ""}${selected === t.id ? " selected" : ""}${dragging?.id === t.id ? " dragging" : ""}${unsaved ? " unsaved" : ""}`}
              style={{
                left: `${(spot.x / extent.w) * 100}%`,
                top: `${(spot.y / extent.h) * 100}%`,
                width: `${(t.width / extent.w) * 100}%`,
                height: `${(t.height / extent.h) * 100}%`,
                transform: t.rotation ? `rotate(${t.rotation}deg)` : undefined,
              }}
              aria-pressed={selected === t.id}
              aria-describedby={help}
              aria-label={`Table ${t.table_number}, ${t.capacity} seats, ${t.area}, at ${spot.x}, ${spot.y}${unsaved ? ", moved, not saved" : ""}`}
              onPointerDown={(e) => onPointerDown(e, t)}
              onPointerMove={onPointerMove}
              onPointerUp={(e) => onPointerUp(e, t)}
              onPointerCancel={onPointerCancel}
              onKeyDown={(e) => onKeyDown(e, t)}
              onClick={() => {
                if (dropped.current) {
                  dropped.current = false;
                  return;
                }
                setSelected(selected === t.id ? null : t.id);
              }}
            >
              <strong>{t.table_number}</strong>
              <span>{t.capacity}</span>
            </button>
          );
        })}
      </div>
      {unplaced.length > 0 && (
        <div className="unplaced">
          <h3>Not on the plan yet</h3>
          <ul className="actions">
            {unplaced.map((t) => (
              <li key={t.id}>
                <button type="button" onClick={() => void place(t, { x: 1, y: clamp(bottom + 1) })}>
                  Put table {t.table_number} on the plan
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {table && (
        <TableEditor
          key={table.id}
          table={table}
          draft={drafts[table.id] ?? null}
          onSavePosition={(spot) => void place(table, spot)}
          onUndoPosition={() => forget(table.id)}
          onClose={() => setSelected(null)}
          onRemoved={(message) => {
            setSelected(null);
            action.say(message);
          }}
          refetch={refetch}
        />
      )}
      {tables.isSuccess && <AddTable tables={list} bottom={bottom} refetch={refetch} />}
    </section>
  );
}

function TableEditor({
  table,
  draft,
  onSavePosition,
  onUndoPosition,
  onClose,
  onRemoved,
  refetch,
}: {
  table: TableView;
  draft: Spot | null;
  onSavePosition: (spot: Spot) => void;
  onUndoPosition: () => void;
  onClose: () => void;
  onRemoved: (message: string) => void;
  refetch: () => void;
}) {
  const action = useAction(refetch);
  const [form, setForm] = useState({
    table_number: String(table.table_number),
    capacity: String(table.capacity),
    area: table.area,
    shape: table.shape,
    width: String(table.width),
    height: String(table.height),
    rotation: String(table.rotation),
    bookable: table.bookable,
  });
  const [local, setLocal] = useState<Record<string, string>>({});
  const [stranded, setStranded] = useState<AffectedBooking[] | null>(null);
  const [removing, setRemoving] = useState(false);
  const title = useId();
  const errors = { ...(action.error?.fields ?? {}), ...local };
  const set = (name: keyof typeof form) => (value: string | boolean) => setForm((f) => ({ ...f, [name]: value }));

  function body(): TableUpdate | null {
    const wrong: Record<string, string> = {};
    const numbers: Record<string, number> = {};
    for (const name of ["table_number", "capacity", "width", "height", "rotation"] as const) {
      const value = whole(form[name]);
      if (value === null) wrong[name] = "Enter a whole number.";
      else numbers[name] = value;
    }
    setLocal(wrong);
    if (Object.keys(wrong).length) {
      action.fail("Some fields need a whole number.");
      return null;
    }
    return { ...numbers, area: form.area.trim(), shape: form.shape, bookable: form.bookable };
  }

  async function save(cancelAffected = false) {
    const data = body();
    if (!data) return;
    setStranded(null);
    const answer = await action.act(
      () => tablesUpdate({ path: { table_id: table.id }, body: data, query: cancelAffected ? { cancel_affected: true } : undefined }),
      (saved) => `Table ${saved?.table_number ?? table.table_number} saved.${strandOutcome(saved)}`,
    );
    if (answer) setStranded(strandedBy(answer));
  }

  async function remove() {
    const answer = await action.act(() => tablesDelete({ path: { table_id: table.id } }), `Table ${table.table_number} removed.`);
    setRemoving(false);
    if (answer && !answer.error) onRemoved(`Table ${table.table_number} removed.`);
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save();
  };
  return (
    <div className="table-panel" role="group" aria-labelledby={title}>
      <h3 id={title}>
        Table {table.table_number} · {table.capacity} seats · {table.area}
      </h3>
      <div className="actions">
        <span>
          Position: {draft ? `${draft.x}, ${draft.y} (not saved)` : table.pos_x === null ? "not on the plan" : `${table.pos_x}, ${table.pos_y}`}
        </span>
        {draft && (
          <>
            <button type="button" className="primary" onClick={() => onSavePosition(draft)}>
              Save position
            </button>
            <button type="button" onClick={onUndoPosition}>
              Put it back
            </button>
          </>
        )}
      </div>
      <Outcome action={action} />
      {stranded && (
        <Stranded
          affected={stranded}
          confirm="Save anyway: move or cancel them"
          onConfirm={() => void save(true)}
          onKeep={() => setStranded(null)}
        />
      )}
      <form onSubmit={submit} noValidate className="console-form">
        <div className="field-row">
          <Field label="Table number" inputMode="numeric" value={form.table_number} onChange={(e) => set("table_number")(e.target.value)} error={errors.table_number} />
          <Field label="Seats" inputMode="numeric" value={form.capacity} onChange={(e) => set("capacity")(e.target.value)} error={errors.capacity} />
          <Field label="Area" value={form.area} onChange={(e) => set("area")(e.target.value)} error={errors.area} />
        </div>
        <div className="field-row">
          <ShapeField value={form.shape} onChange={(value) => set("shape")(value)} error={errors.shape} />
          <Field label="Width (grid units)" inputMode="numeric" value={form.width} onChange={(e) => set("width")(e.target.value)} error={errors.width} />
          <Field label="Depth (grid units)" inputMode="numeric" value={form.height} onChange={(e) => set("height")(e.target.value)} error={errors.height} />
          <Field label="Rotation (degrees)" inputMode="numeric" value={form.rotation} onChange={(e) => set("rotation")(e.target.value)} error={errors.rotation} />
        </div>
        <div className="field check">
          <input id={`${title}-bookable`} type="checkbox" checked={form.bookable} onChange={(e) => set("bookable")(e.target.checked)} />
          <label htmlFor={`${title}-bookable`}>Guests can book it online</label>
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            Save table {table.table_number}
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
          {!removing ? (
            <button type="button" className="danger" onClick={() => setRemoving(true)}>
              Remove table {table.table_number}
            </button>
          ) : (
            <>
              <button type="button" className="danger" onClick={() => void remove()}>
                Yes, remove table {table.table_number}
              </button>
              <button type="button" onClick={() => setRemoving(false)}>
                Keep it
              </button>
            </>
          )}
        </div>
      </form>
    </div>
  );
}

function ShapeField({
  label = "Shape",
  value,
  onChange,
  error,
  auto,
}: {
  label?: string;
  value: string;
  onChange: (value: TableShape) => void;
  error?: string;
  auto?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value as TableShape)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {auto && <option value="">From the size</option>}
        {SHAPES.map((s) => (
          <option key={s} value={s}>
            {{ square: "Square", rect: "Rectangle", round: "Round" }[s]}
          </option>
        ))}
      </select>
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function AddTable({ tables, bottom, refetch }: { tables: TableView[]; bottom: number; refetch: () => void }) {
  const action = useAction(refetch);
  const next = Math.max(0, ...tables.map((t) => t.table_number)) + 1;
  const [form, setForm] = useState({ table_number: String(next), capacity: "4", area: "main", shape: "" });
  const [local, setLocal] = useState<Record<string, string>>({});
  const errors = { ...(action.error?.fields ?? {}), ...local };
  const title = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const number = whole(form.table_number);
    const capacity = whole(form.capacity);
    const wrong: Record<string, string> = {};
    if (number === null) wrong.table_number = "Enter a whole number.";
    if (capacity === null) wrong.capacity = "Enter a whole number.";
    setLocal(wrong);
    if (number === null || capacity === null) {
      action.fail("Some fields need a whole number.");
      return;
    }
    const answer = await action.act(
      () =>
        tablesCreate({
          body: {
            table_number: number,
            capacity,
            area: form.area.trim() || "main",
            shape: (form.shape || null) as TableShape | null,
            pos_x: 1,
            pos_y: clamp(bottom + 1),
          },
        }),
      `Table ${number} added at the bottom left of the plan: drag it into place.`,
    );
    if (answer?.data) setForm((f) => ({ ...f, table_number: String(number + 1) }));
  };
  return (
    <form className="console-form add-table" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={title}>
      <h3 id={title}>Add a table</h3>
      <Outcome action={action} />
      <div className="field-row">
        <Field label="New table's number" inputMode="numeric" value={form.table_number} onChange={(e) => setForm({ ...form, table_number: e.target.value })} error={errors.table_number} />
        <Field label="New table's seats" inputMode="numeric" value={form.capacity} onChange={(e) => setForm({ ...form, capacity: e.target.value })} error={errors.capacity} />
        <Field label="New table's area" value={form.area} onChange={(e) => setForm({ ...form, area: e.target.value })} error={errors.area} />
        <ShapeField label="New table's shape" value={form.shape} auto onChange={(shape) => setForm({ ...form, shape })} error={errors.shape} />
      </div>
      <button type="submit" className="primary">
        Add table
      </button>
    </form>
  );
}
