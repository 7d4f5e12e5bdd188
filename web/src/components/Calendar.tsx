import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import {
  addDays,
  addMonths,
  daysInMonth,
  formatDate,
  formatMonth,
  mondayIndex,
  startOfMonth,
  type IsoDate,
} from "../dates";

interface CalendarProps {
  value: IsoDate;
  min: IsoDate;
  max: IsoDate;
  /** Why a day cannot be booked ("Closed"), or null when it can. */
  unavailable: (date: IsoDate) => string | null;
  onChange: (date: IsoDate) => void;
  label: string;
}

const HEAD = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const HEAD_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** A month grid: one tab stop (the chosen day), arrow keys move by day and week, Page Up
 * and Page Down by month, Home and End to the week's ends; Enter or Space chooses. */
export function Calendar({ value, min, max, unavailable, onChange, label }: CalendarProps) {
  const [focus, setFocus] = useState<IsoDate>(value);
  const [month, setMonth] = useState<IsoDate>(startOfMonth(value));
  const grid = useRef<HTMLTableElement>(null);
  const moved = useRef(false);

  useEffect(() => {
    setFocus(value);
    setMonth(startOfMonth(value));
  }, [value]);

  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    grid.current?.querySelector<HTMLButtonElement>(`[data-date="${focus}"]`)?.focus();
  }, [focus, month]);

  const clamp = (date: IsoDate) => (date < min ? min : date > max ? max : date);
  const go = (date: IsoDate) => {
    const next = clamp(date);
    moved.current = true;
    setFocus(next);
    setMonth(startOfMonth(next));
  };

  const onKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const moves: Record<string, () => IsoDate> = {
      ArrowLeft: () => addDays(focus, -1),
      ArrowRight: () => addDays(focus, 1),
      ArrowUp: () => addDays(focus, -7),
      ArrowDown: () => addDays(focus, 7),
      Home: () => addDays(focus, -mondayIndex(focus)),
      End: () => addDays(focus, 6 - mondayIndex(focus)),
      PageUp: () => addMonths(focus, -1),
      PageDown: () => addMonths(focus, 1),
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      go(move());
    }
  };

  const first = startOfMonth(month);
  const lead = mondayIndex(first);
  const count = daysInMonth(first);
  const cells: (IsoDate | null)[] = [
    ...Array.from({ length: lead }, () => null),
    ...Array.from({ length: count }, (_, i) => addDays(first, i)),
  ];
  while (cells.length % 7) cells.push(null);
  const weeks = Array.from({ length: cells.length / 7 }, (_, w) => cells.slice(w * 7, w * 7 + 7));
  const tabStop = focus >= first && focus <= addDays(first, count - 1) ? focus : first;
  const canBack = startOfMonth(min) < first;
  const canForward = addMonths(first, 1) <= max;

  return (
    <div className="calendar">
      <div className="calendar-head">
        <button
          type="button"
          className="icon"
          onClick={() => canBack && setMonth(addMonths(first, -1))}
          aria-disabled={!canBack || undefined}
          aria-label="Previous month"
        >
          ‹
        </button>
        <h3 id="calendar-month" aria-live="polite">
          {formatMonth(first)}
        </h3>
        <button
          type="button"
          className="icon"
          onClick={() => canForward && setMonth(addMonths(first, 1))}
          aria-disabled={!canForward || undefined}
          aria-label="Next month"
        >
          ›
        </button>
      </div>
      <table ref={grid} aria-label={`${label}: ${formatMonth(first)}`}>
        <thead>
          <tr>
            {HEAD.map((day, i) => (
              <th key={day} scope="col" abbr={HEAD_NAMES[i]}>
                {day}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((week, w) => (
            <tr key={w}>
              {week.map((date, d) => {
                if (!date) return <td key={d} />;
                const outside = date < min || date > max;
                const reason = outside ? "Not bookable online" : unavailable(date);
                const chosen = date === value;
                return (
                  <td key={date}>
                    <button
                      type="button"
                      data-date={date}
                      className={`day${chosen ? " chosen" : ""}`}
                      tabIndex={date === tabStop ? 0 : -1}
                      aria-pressed={chosen}
                      aria-disabled={reason ? true : undefined}
                      aria-label={`${formatDate(date)}${reason ? ` (${reason})` : ""}`}
                      title={reason ?? undefined}
                      onKeyDown={onKey}
                      onFocus={() => setFocus(date)}
                      onClick={() => {
                        if (!reason) onChange(date);
                      }}
                    >
                      {Number(date.slice(8))}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
