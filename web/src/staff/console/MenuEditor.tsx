// The menu: items by category with their prices (decimal strings, as the API keeps money)
// and availability; edit, add, delete. Which categories the bar makes (the rest go to the
// kitchen) is the restaurant's `bar_categories` setting, edited here beside the menu.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useId, useState, type FormEvent } from "react";
import { menuCreate, menuDelete, menuListAll, menuUpdate, restaurantPatch } from "../../client/sdk.gen";
import type { MenuItemOut } from "../../client/types.gen";
import { Field } from "../../components/Field";
import { problem } from "../../errors";
import type { Restaurant } from "../../restaurant";
import { Outcome, useAction, type Action } from "./common";

const MENU = ["staff", "menu"];
const PRICE = /^\d{1,7}(\.\d{1,2})?$/;

interface Draft {
  name: string;
  description: string;
  price: string;
  category: string;
  is_available: boolean;
}

function checkDraft(draft: Draft): Record<string, string> {
  const wrong: Record<string, string> = {};
  if (!draft.name.trim()) wrong.name = "Give the dish a name.";
  if (!PRICE.test(draft.price.trim())) wrong.price = "Write the price as a number such as 12.50.";
  if (!draft.category.trim()) wrong.category = "Give it a category, such as mains.";
  return wrong;
}

const money = (price: number | string) => Number(price).toFixed(2);

export function MenuEditor({ restaurant }: { restaurant: Restaurant }) {
  const queries = useQueryClient();
  const menu = useQuery({
    queryKey: MENU,
    queryFn: async () => {
      const { data, error, response } = await menuListAll();
      if (error || !data) throw problem(error, response);
      return data;
    },
  });
  const refetch = useCallback(() => void queries.invalidateQueries({ queryKey: MENU }), [queries]);
  const action = useAction(refetch);
  const [editing, setEditing] = useState<number | null>(null);

  const items = menu.data ?? [];
  const categories = [...new Set(items.map((i) => i.category))];
  const listId = useId();
  return (
    <section className="panel" aria-labelledby="console-menu">
      <h2 id="console-menu">Menu</h2>
      <Outcome action={action} />
      <datalist id={listId}>
        {categories.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      {menu.isPending && <p role="status">Loading the menu…</p>}
      {menu.isError && <p className="form-error">{(menu.error as { message?: string }).message ?? "The menu could not be loaded."}</p>}
      {menu.isSuccess && items.length === 0 && <p>The menu is empty: add the first dish below.</p>}
      {categories.map((category) => (
        <div key={category} className="menu-category">
          <h3>
            {category}
            {restaurant.bar_categories.includes(category) ? " (bar)" : " (kitchen)"}
          </h3>
          <ul className="menu-items">
            {items
              .filter((i) => i.category === category)
              .map((item) =>
                editing === item.id ? (
                  <li key={item.id}>
                    <ItemForm
                      item={item}
                      categoriesId={listId}
                      onDone={(saved) => {
                        setEditing(null);
                        if (saved) action.say(saved);
                      }}
                      refetch={refetch}
                    />
                  </li>
                ) : (
                  <ItemRow key={item.id} item={item} action={action} onEdit={() => setEditing(item.id)} />
                ),
              )}
          </ul>
        </div>
      ))}
      <ItemForm categoriesId={listId} refetch={refetch} />
      {categories.length > 0 && <Stations restaurant={restaurant} categories={categories} />}
    </section>
  );
}

function ItemRow({ item, action, onEdit }: { item: MenuItemOut; action: Action; onEdit: () => void }) {
  const [deleting, setDeleting] = useState(false);
  const id = { path: { item_id: item.id } };
  return (
    <li className={`menu-item${item.is_available ? "" : " off"}`}>
      <span className="menu-name">
        <strong>{item.name}</strong> · {money(item.price)}
        {!item.is_available && <span className="tag">not available</span>}
        {item.description && <span className="hint"> — {item.description}</span>}
      </span>
      <span className="actions">
        <button type="button" onClick={onEdit}>
          Edit<span className="sr-only"> {item.name}</span>
        </button>
        <button
          type="button"
          aria-label={`${item.is_available ? "Mark unavailable" : "Mark available"}: ${item.name}`}
          onClick={() =>
            void action.act(
              () => menuUpdate({ ...id, body: { is_available: !item.is_available } }),
              `${item.name} is ${item.is_available ? "no longer" : "now"} available.`,
            )
          }
        >
          {item.is_available ? "Mark unavailable" : "Mark available"}
        </button>
        {!deleting ? (
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            Delete<span className="sr-only"> {item.name}</span>
          </button>
        ) : (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => void action.act(() => menuDelete(id), `${item.name} deleted from the menu.`)}
            >
              Yes, delete<span className="sr-only"> {item.name}</span>
            </button>
            <button type="button" onClick={() => setDeleting(false)}>
              Keep it
            </button>
          </>
        )}
      </span>
    </li>
  );
}

/** Edits `item`, or adds a new one when there is none. */
function ItemForm({
  item,
  categoriesId,
  onDone,
  refetch,
}: {
  item?: MenuItemOut;
  categoriesId: string;
  onDone?: (saved?: string) => void;
  refetch: () => void;
}) {
  const action = useAction(refetch);
  const empty: Draft = { name: "", description: "", price: "", category: "", is_available: true };
  const [draft, setDraft] = useState<Draft>(
    item
      ? { name: item.name, description: item.description, price: money(item.price), category: item.category, is_available: item.is_available }
      : empty,
  );
  const [local, setLocal] = useState<Record<string, string>>({});
  const errors = { ...(action.error?.fields ?? {}), ...local };
  const title = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const wrong = checkDraft(draft);
    setLocal(wrong);
    if (Object.keys(wrong).length) {
      action.fail("Some fields need correcting.");
      return;
    }
    const body = {
      name: draft.name.trim(),
      description: draft.description.trim(),
      price: draft.price.trim(),
      category: draft.category.trim(),
      is_available: draft.is_available,
    };
    const answer = item
      ? await action.act(() => menuUpdate({ path: { item_id: item.id }, body }), `${body.name} saved.`)
      : await action.act(() => menuCreate({ body }), `${body.name} added to ${body.category}.`);
    if (answer?.data) {
      if (item) onDone?.(`${body.name} saved.`);
      else setDraft(empty);
    }
  };
  return (
    <form className="console-form item-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={title}>
      <h3 id={title}>{item ? `Edit ${item.name}` : "Add a dish"}</h3>
      <Outcome action={action} />
      <div className="field-row">
        <Field label={item ? "Name" : "New dish's name"} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} error={errors.name} />
        <Field
          label={item ? "Price" : "New dish's price"}
          inputMode="decimal"
          value={draft.price}
          onChange={(e) => setDraft({ ...draft, price: e.target.value })}
          error={errors.price}
          hint="For example 12.50"
        />
        <Field
          label={item ? "Category" : "New dish's category"}
          list={categoriesId}
          value={draft.category}
          onChange={(e) => setDraft({ ...draft, category: e.target.value })}
          error={errors.category}
        />
      </div>
      <Field
        label={item ? "Description" : "New dish's description"}
        value={draft.description}
        onChange={(e) => setDraft({ ...draft, description: e.target.value })}
        error={errors.description}
      />
      <div className="field check">
        <input
          id={`${title}-available`}
          type="checkbox"
          checked={draft.is_available}
          onChange={(e) => setDraft({ ...draft, is_available: e.target.checked })}
        />
        <label htmlFor={`${title}-available`}>Available to order</label>
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          {item ? `Save ${item.name}` : "Add dish"}
        </button>
        {item && (
          <button type="button" onClick={() => onDone?.()}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function Stations({ restaurant, categories }: { restaurant: Restaurant; categories: string[] }) {
  const queries = useQueryClient();
  const action = useAction(() => void queries.invalidateQueries({ queryKey: ["restaurant"] }));
  const [bar, setBar] = useState<string[]>(restaurant.bar_categories);
  const title = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.act(() => restaurantPatch({ body: { bar_categories: bar } }), "Stations saved: new tickets go where they now say.");
  };
  return (
    <form className="console-form" onSubmit={submit} aria-labelledby={title}>
      <h3 id={title}>Stations</h3>
      <Outcome action={action} />
      <fieldset>
        <legend>Categories the bar makes (the rest go to the kitchen)</legend>
        {categories.map((c, i) => (
          <div key={c} className="field check">
            <input
              id={`${title}-${i}`}
              type="checkbox"
              checked={bar.includes(c)}
              onChange={(e) => setBar(e.target.checked ? [...bar, c] : bar.filter((b) => b !== c))}
            />
            <label htmlFor={`${title}-${i}`}>{c}</label>
          </div>
        ))}
      </fieldset>
      <button type="submit" className="primary">
        Save stations
      </button>
    </form>
  );
}
