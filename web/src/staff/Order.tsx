import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { kitchenQueue, menuList, ordersBill, ordersClose, ordersGet, ordersUpdate, tablesSplitBill } from "../client/sdk.gen";
import type { Bill, SplitResult, TableView } from "../client/types.gen";
import { problem } from "../errors";

type Answer = { error?: unknown; response?: Response };
type Act = (action: () => Promise<Answer>, done: string) => Promise<boolean>;

/** A table's current order (refetched with everything else on the floor's events). */
export function useOrder(orderId: number | null) {
  return useQuery({
    queryKey: ["staff", "order", orderId],
    enabled: orderId !== null,
    queryFn: async () => {
      const { data, error, response } = await ordersGet({ path: { order_id: orderId! } });
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
}

/** A seated table's order, where the waiter and the host look: add dishes (they go to the
 * kitchen), see the bill, split it, close it once paid. */
export function OrderPanel({ table, act }: { table: TableView; act: Act }) {
  const orderId = table.current_order_id!;
  const queries = useQueryClient();
  const order = useOrder(orderId);
  const [closeProblem, setCloseProblem] = useState<string | null>(null);
  const menu = useQuery({
    queryKey: ["menu"],
    staleTime: 60_000,
    queryFn: async () => {
      const { data, error, response } = await menuList();
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  // Where the kitchen is with this order's tickets, while the panel is open: looked up
  // every two seconds (the kitchen's own screen follows its stream).
  const tickets = useQuery({
    queryKey: ["staff", "tickets", orderId],
    refetchInterval: 2_000,
    queryFn: async () => {
      const { data, error, response } = await kitchenQueue();
      if (error || !data) throw problem(error, response);
      return data.filter((t) => t.order_id === orderId);
    },
  });
  const [dish, setDish] = useState("");
  const [quantity, setQuantity] = useState(1);
  const [seat, setSeat] = useState("");
  const [notes, setNotes] = useState("");
  const [bill, setBill] = useState<Bill | null>(null);
  const [parts, setParts] = useState(3);
  const [split, setSplit] = useState<SplitResult | null>(null);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (!order.data || !dish) return;
    const items = [
      ...order.data.items.map((i) => ({
        menu_item_id: i.menu_item_id, quantity: i.quantity, seat_number: i.seat_number ?? null, notes: i.notes ?? null,
      })),
      { menu_item_id: Number(dish), quantity, seat_number: seat ? Number(seat) : null, notes: notes.trim() || null },
    ];
    const name = menu.data?.find((m) => m.id === Number(dish))?.name ?? "dish";
    if (await act(() => ordersUpdate({ path: { order_id: orderId }, body: { items } }), `${quantity} × ${name} sent to the kitchen`)) {
      setNotes("");
      setSeat("");
      setQuantity(1);
      void queries.invalidateQueries({ queryKey: ["staff", "order", orderId] });
    }
  };

  const showBill = async () => {
    const { data, error, response } = await ordersBill({ path: { order_id: orderId } });
    if (error || !data) await act(async () => ({ error, response }), "");
    else setBill(data);
  };

  // A bill with dishes not yet served is refused: say so here, with the way out.
  const close = async (cancelTickets: boolean) => {
    setCloseProblem(null);
    const answer = await ordersClose({
      path: { order_id: orderId },
      body: { payment_note: "paid at the table", cancel_tickets: cancelTickets },
    });
    if (answer.response?.status === 409 && !cancelTickets) {
      setCloseProblem("Some dishes have not been served yet. Close the bill anyway and cancel them in the kitchen?");
      return;
    }
    // The panel (and the table's Release) must know at once that the order is closed.
    if (answer.data) queries.setQueryData(["staff", "order", orderId], answer.data);
    await act(async () => answer, `Order #${orderId} paid and closed`);
  };

  const splitBill = async () => {
    let result: SplitResult | undefined;
    const ok = await act(async () => {
      const answer = await tablesSplitBill({ path: { table_id: table.id }, body: { mode: "equal", parts } });
      result = answer.data;
      return answer;
    }, `Bill split ${parts} ways`);
    if (ok && result) setSplit(result);
  };

  return (
    <div className="order-panel" role="group" aria-labelledby="order-title">
      <h3 id="order-title">Order #{orderId}</h3>
      {order.data && (
        <ul className="order-lines">
          {order.data.items.length === 0 && <li>Nothing ordered yet.</li>}
          {order.data.items.map((i) => (
            <li key={i.id}>
              {i.quantity} × {i.name}
              {i.seat_number ? ` · seat ${i.seat_number}` : ""}
              {i.notes ? ` — ${i.notes}` : ""} · {i.amount}
            </li>
          ))}
        </ul>
      )}
      {(tickets.data ?? []).length > 0 && (
        <ul className="kitchen-state" aria-label="In the kitchen">
          {tickets.data!.map((t) => (
            <li key={t.id}>
              {t.station === "bar" ? "Bar" : "Kitchen"}: {t.items.map((i) => `${i.quantity} × ${i.name}`).join(", ")} —{" "}
              <strong>{t.status}</strong>
            </li>
          ))}
        </ul>
      )}
      {order.data && order.data.status !== "open" && (
        <p className="notice">
          This order is {order.data.status === "closed" ? "paid and closed" : order.data.status}: release the table
          when the guests leave.
        </p>
      )}
      <div hidden={!order.data || order.data.status !== "open"}>
      <form className="inline-form" onSubmit={add} aria-label="Add to the order">
        <label htmlFor="order-dish">Dish</label>
        <select id="order-dish" value={dish} onChange={(e) => setDish(e.target.value)}>
          <option value="">Choose</option>
          {(menu.data ?? []).map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} ({String(m.price)})
            </option>
          ))}
        </select>
        <label htmlFor="order-quantity">Quantity</label>
        <input id="order-quantity" type="number" min={1} max={50} value={quantity} onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
        <label htmlFor="order-seat">Seat</label>
        <input id="order-seat" type="number" min={1} max={200} value={seat} onChange={(e) => setSeat(e.target.value)} />
        <label htmlFor="order-notes">Notes</label>
        <input id="order-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
        <button type="submit" disabled={!dish}>
          Send to kitchen
        </button>
      </form>
      <div className="actions">
        <button type="button" onClick={() => void showBill()}>
          Bill
        </button>
        <label htmlFor="split-parts">Split into</label>
        <input id="split-parts" type="number" min={1} max={50} value={parts} onChange={(e) => setParts(Math.max(1, Number(e.target.value) || 1))} />
        <button type="button" onClick={() => void splitBill()}>
          Split equally
        </button>
        <button type="button" className="primary" onClick={() => void close(false)}>
          Paid: close the bill
        </button>
      </div>
      {closeProblem && (
        <div role="alert" className="form-error">
          <p>{closeProblem}</p>
          <button type="button" onClick={() => void close(true)}>
            Close it and cancel what was not served
          </button>
        </div>
      )}
      </div>
      {bill && (
        <table className="bill" aria-label={`Bill for order #${orderId}`}>
          <tbody>
            {bill.lines.map((l) => (
              <tr key={l.item_id}>
                <td>
                  {l.quantity} × {l.name}
                </td>
                <td>{l.amount}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">Service ({bill.service_charge_percent}%)</th>
              <td>{bill.service_charge}</td>
            </tr>
            <tr>
              <th scope="row">Tax ({bill.tax_percent}%)</th>
              <td>{bill.tax}</td>
            </tr>
            <tr>
              <th scope="row">Total</th>
              <td>{bill.total}</td>
            </tr>
          </tbody>
        </table>
      )}
      {split && (
        <ul className="split" aria-label="Split bills">
          {split.bills.map((b) => (
            <li key={b.label}>
              {b.label}: {b.amount}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
