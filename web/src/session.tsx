// Who is signed in: the account (GET /users/me) while a browser session lasts.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { onSessionChange, refresh, signedIn, signOut } from "./api";
import { usersMe } from "./client/sdk.gen";
import type { UserOut } from "./client/types.gen";

interface Session {
  ready: boolean; // the first silent refresh has answered
  user: UserOut | null;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session>({ ready: false, user: null, signOut: async () => {} });

export function SessionProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [ready, setReady] = useState(false);
  const [active, setActive] = useState(signedIn());

  useEffect(() => {
    const stop = onSessionChange(() => {
      const now = signedIn();
      setActive(now);
      // Nothing of one account's may show after it signs out (or before another signs in).
      if (!now) {
        queries.removeQueries({ queryKey: ["me"] });
        queries.removeQueries({ queryKey: ["mine"] });
      }
    });
    void refresh().finally(() => setReady(true));
    return () => {
      stop();
    };
  }, [queries]);

  const me = useQuery({
    queryKey: ["me"],
    queryFn: async () => (await usersMe({ throwOnError: true })).data,
    enabled: active,
    staleTime: 60_000,
  });

  const value: Session = {
    ready: ready && (!active || !me.isPending),
    user: active ? (me.data ?? null) : null,
    signOut,
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  return useContext(SessionContext);
}
