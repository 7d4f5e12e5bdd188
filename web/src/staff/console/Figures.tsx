// Today's figures and a chosen day's (GET /api/reports/day), as a table and as bars drawn
// in inline SVG: the chart's text alternative names every figure, and the table holds them
// all too, so nothing is only in the picture.
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { reportsDay } from "../../client/sdk.gen";
import type { DayReport } from "../../client/types.gen";
import { addDays, formatDate, restaurantNow } from "../../dates";
import { problem } from "../../errors";

type Count = Exclude<keyof DayReport, "date" | "timezone" | "revenue">;

const ROWS: [Count, string][] = [
  ["covers_booked", "Covers booked"],
  ["bookings", "Bookings"],
  ["seated_covers", "Covers seated"],
  ["walk_in_covers", "of which walk-ins"],
  ["no_shows", "No-shows"],
  ["no_show_covers", "No-show covers"],
  ["cancellations", "Cancellations"],
  ["orders_closed", "Orders closed"],
];
const CHARTED: Count[] = ["covers_booked", "seated_covers", "no_show_covers", "cancellations", "orders_closed"];
const money = (value: string) => Number(value).toFixed(2);

function useDay(date: string) {
  return useQuery({
    queryKey: ["staff", "report", date],
    queryFn: async () => {
      const { data, error, response } = await reportsDay({ query: { date } });
      if (error || !data) throw problem(error, response);
      return data;
    },
    refetchInterval: 60_000,
  });
}

export function Figures({ zone }: { zone: string }) {
  const today = restaurantNow(zone).date;
  const [other, setOther] = useState(addDays(today, -1));
  const first = useDay(today);
  const second = useDay(other);
  const days = [first.data, second.data];
  const failed = first.error ?? second.error;
  const label = (report: DayReport | undefined, fallback: string) =>
    report?.date === today ? "Today" : formatDate(report?.date ?? fallback, "short");
  return (
    <section className="panel" aria-labelledby="console-figures">
      <h2 id="console-figures">Figures</h2>
      <div className="field narrow">
        <label htmlFor="figures-day">Compare today with</label>
        <input
          id="figures-day"
          type="date"
          value={other}
          max={addDays(today, 365)}
          onChange={(e) => setOther(e.target.value || addDays(today, -1))}
        />
      </div>
      {failed && <p className="form-error">{(failed as { message?: string }).message ?? "The figures could not be loaded."}</p>}
      {(first.isPending || second.isPending) && <p role="status">Loading the figures…</p>}
      {first.data && second.data && (
        <div className="figures">
          <table className="console-table figures-table">
            <caption>
              {formatDate(today)} (today) and {formatDate(other)}
            </caption>
            <thead>
              <tr>
                <th scope="col">Figure</th>
                <th scope="col">{label(first.data, today)}</th>
                <th scope="col">{label(second.data, other)}</th>
              </tr>
            </thead>
            <tbody>
              {ROWS.map(([key, name]) => (
                <tr key={key}>
                  <th scope="row">{name}</th>
                  {days.map((d, i) => (
                    <td key={i} data-figure={key}>
                      {d?.[key]}
                    </td>
                  ))}
                </tr>
              ))}
              <tr>
                <th scope="row">Revenue</th>
                {days.map((d, i) => (
                  <td key={i} data-figure="revenue">
                    {money(d?.revenue ?? "0")}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
          <div>
          <Bars
            title="Guests and orders"
            names={[label(first.data, today), label(second.data, other)]}
            rows={CHARTED.map((key) => ({
              label: ROWS.find(([k]) => k === key)![1],
              values: [first.data[key], second.data[key]],
              text: (v: number) => String(v),
            }))}
          />
          <Bars
            title="Revenue"
            names={[label(first.data, today), label(second.data, other)]}
            rows={[
              {
                label: "Revenue",
                values: [Number(first.data.revenue), Number(second.data.revenue)],
                text: (v: number) => v.toFixed(2),
              },
            ]}
          />
          </div>
        </div>
      )}
    </section>
  );
}

const COLOURS = ["#1a56db", "#8a5a00"]; // each at least 4.5:1 on white, told apart by the legend too
const LABEL_W = 130;
const BAR_W = 300;
const BAR_H = 14;

function Bars({
  title,
  names,
  rows,
}: {
  title: string;
  names: string[];
  rows: { label: string; values: number[]; text: (v: number) => string }[];
}) {
  const id = useId();
  const top = Math.max(1, ...rows.flatMap((r) => r.values));
  const group = names.length * BAR_H + 12;
  const height = 24 + rows.length * group;
  const width = LABEL_W + BAR_W + 70;
  const summary = rows
    .map((r) => `${r.label}: ${r.values.map((v, i) => `${names[i]} ${r.text(v)}`).join(", ")}`)
    .join("; ");
  return (
    <figure className="chart">
      <svg role="img" aria-labelledby={`${id}-t ${id}-d`} viewBox={`0 0 ${width} ${height}`} width="100%">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{summary}</desc>
        {names.map((name, i) => (
          <g key={name + i} aria-hidden="true">
            <rect x={LABEL_W + i * 120} y={4} width={10} height={10} fill={COLOURS[i]} />
            <text x={LABEL_W + i * 120 + 14} y={13} fontSize={11} fill="#1d1b19">
              {name}
            </text>
          </g>
        ))}
        {rows.map((row, r) => (
          <g key={row.label} aria-hidden="true" transform={`translate(0 ${24 + r * group})`}>
            <text x={LABEL_W - 8} y={BAR_H + 2} fontSize={12} textAnchor="end" fill="#1d1b19">
              {row.label}
            </text>
            {row.values.map((v, i) => (
              <g key={i}>
                <rect x={LABEL_W} y={i * BAR_H} width={Math.max(1, (v / top) * BAR_W)} height={BAR_H - 2} fill={COLOURS[i]} />
                <text x={LABEL_W + Math.max(1, (v / top) * BAR_W) + 4} y={i * BAR_H + BAR_H - 4} fontSize={11} fill="#1d1b19">
                  {row.text(v)}
                </text>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="hint">{title}: the same figures as the table.</figcaption>
    </figure>
  );
}
