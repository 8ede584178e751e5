/**
 * Cities with their ISO country code and centre coordinates. A record's city always lies in its
 * country and its coordinates within a few kilometres of the centre. Weights follow rough web
 * traffic shares so a day of data is US-heavy like real traffic, not uniform over the table.
 */
export interface City {
  readonly country: string;
  readonly city: string;
  readonly lat: number;
  readonly lon: number;
  readonly weight: number;
}

export const CITIES: readonly City[] = [
  { country: "US", city: "New York", lat: 40.7128, lon: -74.006, weight: 9 },
  { country: "US", city: "Los Angeles", lat: 34.0522, lon: -118.2437, weight: 6 },
  { country: "US", city: "Chicago", lat: 41.8781, lon: -87.6298, weight: 4 },
  { country: "US", city: "Houston", lat: 29.7604, lon: -95.3698, weight: 3 },
  { country: "US", city: "Seattle", lat: 47.6062, lon: -122.3321, weight: 3 },
  { country: "US", city: "Austin", lat: 30.2672, lon: -97.7431, weight: 2 },
  { country: "US", city: "Miami", lat: 25.7617, lon: -80.1918, weight: 2 },
  { country: "US", city: "Boston", lat: 42.3601, lon: -71.0589, weight: 2 },
  { country: "US", city: "San Francisco", lat: 37.7749, lon: -122.4194, weight: 3 },
  { country: "CA", city: "Toronto", lat: 43.6532, lon: -79.3832, weight: 3 },
  { country: "CA", city: "Vancouver", lat: 49.2827, lon: -123.1207, weight: 2 },
  { country: "CA", city: "Montreal", lat: 45.5017, lon: -73.5673, weight: 2 },
  { country: "MX", city: "Mexico City", lat: 19.4326, lon: -99.1332, weight: 2 },
  { country: "BR", city: "Sao Paulo", lat: -23.5505, lon: -46.6333, weight: 3 },
  { country: "BR", city: "Rio de Janeiro", lat: -22.9068, lon: -43.1729, weight: 2 },
  { country: "AR", city: "Buenos Aires", lat: -34.6037, lon: -58.3816, weight: 1 },
  { country: "GB", city: "London", lat: 51.5074, lon: -0.1278, weight: 6 },
  { country: "GB", city: "Manchester", lat: 53.4808, lon: -2.2426, weight: 2 },
  { country: "IE", city: "Dublin", lat: 53.3498, lon: -6.2603, weight: 1 },
  { country: "FR", city: "Paris", lat: 48.8566, lon: 2.3522, weight: 4 },
  { country: "FR", city: "Lyon", lat: 45.764, lon: 4.8357, weight: 1 },
  { country: "DE", city: "Berlin", lat: 52.52, lon: 13.405, weight: 3 },
  { country: "DE", city: "Munich", lat: 48.1351, lon: 11.582, weight: 2 },
  { country: "DE", city: "Hamburg", lat: 53.5511, lon: 9.9937, weight: 1 },
  { country: "NL", city: "Amsterdam", lat: 52.3676, lon: 4.9041, weight: 2 },
  { country: "ES", city: "Madrid", lat: 40.4168, lon: -3.7038, weight: 2 },
  { country: "ES", city: "Barcelona", lat: 41.3874, lon: 2.1686, weight: 2 },
  { country: "IT", city: "Rome", lat: 41.9028, lon: 12.4964, weight: 2 },
  { country: "IT", city: "Milan", lat: 45.4642, lon: 9.19, weight: 2 },
  { country: "SE", city: "Stockholm", lat: 59.3293, lon: 18.0686, weight: 1 },
  { country: "PL", city: "Warsaw", lat: 52.2297, lon: 21.0122, weight: 1 },
  { country: "IN", city: "Mumbai", lat: 19.076, lon: 72.8777, weight: 4 },
  { country: "IN", city: "Bangalore", lat: 12.9716, lon: 77.5946, weight: 3 },
  { country: "IN", city: "Delhi", lat: 28.7041, lon: 77.1025, weight: 3 },
  { country: "JP", city: "Tokyo", lat: 35.6762, lon: 139.6503, weight: 4 },
  { country: "JP", city: "Osaka", lat: 34.6937, lon: 135.5023, weight: 2 },
  { country: "KR", city: "Seoul", lat: 37.5665, lon: 126.978, weight: 2 },
  { country: "SG", city: "Singapore", lat: 1.3521, lon: 103.8198, weight: 2 },
  { country: "AU", city: "Sydney", lat: -33.8688, lon: 151.2093, weight: 2 },
  { country: "AU", city: "Melbourne", lat: -37.8136, lon: 144.9631, weight: 2 },
  { country: "NZ", city: "Auckland", lat: -36.8485, lon: 174.7633, weight: 1 },
  { country: "ZA", city: "Johannesburg", lat: -26.2041, lon: 28.0473, weight: 1 },
  { country: "NG", city: "Lagos", lat: 6.5244, lon: 3.3792, weight: 1 },
  { country: "AE", city: "Dubai", lat: 25.2048, lon: 55.2708, weight: 1 },
];
