// The restaurant's public settings (GET /restaurant): its name, colours, contact details
// and the booking rules the widget shows before a guest runs into them.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { restaurantGet } from "./client/sdk.gen";
import type { RestaurantSettingsOut } from "./client/types.gen";

export type Restaurant = RestaurantSettingsOut;

export function useRestaurant() {
  return useQuery({
    queryKey: ["restaurant"],
    queryFn: async () => (await restaurantGet({ throwOnError: true })).data,
    staleTime: 60_000,
  });
}

/** The restaurant's colour on the page, with readable text on it. */
export function applyTheme(restaurant: Restaurant): void {
  const root = document.documentElement;
  const colour = restaurant.brand_color;
  root.style.setProperty("--brand", colour);
  root.style.setProperty("--on-brand", readableOn(colour));
}

/** The page's title, with the restaurant's name. */
export function useTitle(title: string): void {
  const { data } = useRestaurant();
  useEffect(() => {
    document.title = data ? `${title} · ${data.name}` : title;
  }, [title, data]);
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function readableOn(hex: string): string {
  // Whichever of black and white contrasts more with the colour (WCAG's formula).
  const l = luminance(hex);
  return (1.05) / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

/** The weekday's services ("12:00–14:30, 18:00–22:00"), or null when closed. */
export function openingOn(restaurant: Restaurant, weekday: string): string | null {
  const services = restaurant.opening_hours[weekday] ?? [];
  if (services.length === 0) return null;
  return services.map((s) => `${s.opens.slice(0, 5)}–${s.closes.slice(0, 5)}`).join(", ");
}
