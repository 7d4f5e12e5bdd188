import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { signIn } from "../api";
import { authRegister, authRequestPasswordReset } from "../client/sdk.gen";
import { offline, problem, type Problem } from "../errors";
import { Field, FormError } from "./Field";

type Mode = "signin" | "signup" | "forgot";

/** Sign in, sign up or ask for a reset link, in place: whatever the page holds (the
 * chosen table, a draft) stays as it is. */
export function AuthPanel({ intro, staff = false }: { intro?: string; staff?: boolean }) {
  const [mode, setMode] = useState<Mode>(staff ? "signin" : "signup");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Problem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [form, setForm] = useState({ name: "", email: "", phone: "", password: "" });
  const queries = useQueryClient();

  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => {
    const value = e.target.value;
    setForm((current) => ({ ...current, [key]: value }));
  };

  const switchTo = (next: Mode) => {
    setMode(next);
    setError(null);
    setNotice(null);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (mode === "forgot") {
        const result = await authRequestPasswordReset({ body: { email: form.email } });
        if (result.error) setError(problem(result.error, result.response));
        else setNotice("If an account uses that address, a link to choose a new password is on its way.");
        return;
      }
      if (mode === "signup") {
        const body = { name: form.name, email: form.email, password: form.password, phone: form.phone || null };
        const made = await authRegister({ body });
        if (made.error) {
          setError(problem(made.error, made.response));
          return;
        }
      }
      const result = await signIn(form.email, form.password);
      if (result.error) {
        const found = problem(result.error, result.response);
        if (mode === "signup" && result.response?.status === 401) {
          found.message =
            "That e-mail address already has an account, and this is not its password. Sign in instead, or ask for a new password.";
        }
        setError(found);
        return;
      }
      await queries.invalidateQueries({ queryKey: ["me"] });
    } catch {
      setError(offline);
    } finally {
      setBusy(false);
    }
  }

  const fields = error?.fields ?? {};
  const title = { signin: "Sign in", signup: "Create an account", forgot: "Forgotten your password?" }[mode];
  return (
    <section className="panel" aria-labelledby="auth-title">
      <h2 id="auth-title">{title}</h2>
      {intro && <p>{intro}</p>}
      <div className="tabs" role="group" aria-label="Account" hidden={staff}>
        <button type="button" aria-pressed={mode === "signup"} onClick={() => switchTo("signup")}>
          New here
        </button>
        <button type="button" aria-pressed={mode === "signin"} onClick={() => switchTo("signin")}>
          I have an account
        </button>
      </div>
      <form onSubmit={submit} noValidate>
        {mode === "signup" && (
          <Field label="Your name" name="name" autoComplete="name" required value={form.name}
            onChange={set("name")} error={fields.name} />
        )}
        <Field label="E-mail" name="email" type="email" autoComplete="email" required value={form.email}
          onChange={set("email")} error={fields.email} />
        {mode === "signup" && (
          <Field label="Phone (optional)" name="phone" type="tel" autoComplete="tel" value={form.phone}
            onChange={set("phone")} error={fields.phone} hint="So the restaurant can reach you about your booking." />
        )}
        {mode !== "forgot" && (
          <Field label="Password" name="password" type="password" required minLength={mode === "signup" ? 8 : undefined}
            autoComplete={mode === "signup" ? "new-password" : "current-password"} value={form.password}
            onChange={set("password")} error={fields.password}
            hint={mode === "signup" ? "At least 8 characters." : undefined} />
        )}
        <FormError message={error?.message} />
        <p role="status" className={notice ? "notice" : "sr-only"}>
          {notice ?? ""}
        </p>
        <button type="submit" className="primary" disabled={busy}>
          {mode === "signup" ? "Create account and continue" : mode === "signin" ? "Sign in and continue" : "Send me a link"}
        </button>
        {mode === "signin" && (
          <button type="button" className="link" onClick={() => switchTo("forgot")}>
            Forgotten your password?
          </button>
        )}
        {mode === "forgot" && (
          <button type="button" className="link" onClick={() => switchTo("signin")}>
            Back to sign in
          </button>
        )}
      </form>
    </section>
  );
}
