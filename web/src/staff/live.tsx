// Live updates for the staff screens: an EventSource on one of the service's streams,
// authenticated by the stream cookie (POST /auth/session/stream sets it; EventSource
// cannot send an Authorization header, and a token in the URL would reach the logs).
//
// A dropped connection or a restarted server: EventSource reconnects by itself and sends
// Last-Event-ID, so the stream resumes after the last event this screen saw. A refused
// reconnect (the cookie expired, or the server was down too long) closes it: then the
// cookie is renewed, a new EventSource opens, and `onOpen` lets the screen fetch what it
// shows afresh, so nothing missed stays missing.
import { useEffect, useRef, useState } from "react";
import { authSessionStream } from "../client/sdk.gen";

const COOKIE_RENEW_MS = 5 * 60_000;
const RETRY_MS = 2_000;

export type LiveState = "connecting" | "live" | "reconnecting";

export function useLiveStream(
  url: string,
  events: string[],
  onEvent: (type: string, data: unknown) => void,
  onOpen: () => void,
): LiveState {
  const [state, setState] = useState<LiveState>("connecting");
  const handlers = useRef({ onEvent, onOpen });
  handlers.current = { onEvent, onOpen };
  const key = events.join(",");

  useEffect(() => {
    let source: EventSource | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const renew = () => authSessionStream({ headers: { "X-Requested-With": "restaurant-web" } });

    async function open() {
      if (stopped) return;
      const cookie = await renew().catch(() => null);
      if (stopped) return;
      if (!cookie || cookie.error) {
        setState("reconnecting");
        retry = setTimeout(open, RETRY_MS);
        return;
      }
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => {
        setState("live");
        handlers.current.onOpen();
      };
      source.onerror = () => {
        setState("reconnecting");
        if (source?.readyState === EventSource.CLOSED) {
          source = null;
          retry = setTimeout(open, RETRY_MS);
        }
      };
      for (const type of key.split(",")) {
        source.addEventListener(type, (event) => {
          const message = event as MessageEvent<string>;
          let data: unknown = null;
          try {
            data = JSON.parse(message.data);
          } catch {
            data = null;
          }
          handlers.current.onEvent(type, data);
        });
      }
    }

    void open();
    const renewing = setInterval(() => void renew(), COOKIE_RENEW_MS);
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(renewing);
      source?.close();
    };
  }, [url, key]);

  return state;
}

export function LiveBadge({ state }: { state: LiveState }) {
  const words = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[state];
  return (
    <span className={`live live-${state}`} role="status">
      {words}
    </span>
  );
}
