// What the store shows for the ids it stores: genres, platforms and tags keep their stable ids
// (the API, the search facets and the query string use them), and the page shows them in
// Portuguese. An id without a label is shown as it is. Prices: "Grátis" or "R$ 79,90".

const GENRES = {
  'Action': 'Ação',
  'Adventure': 'Aventura',
  'RPG': 'RPG',
  'Strategy': 'Estratégia',
  'Simulation': 'Simulação',
  'Sports': 'Esportes',
  'Racing': 'Corrida',
  'Puzzle': 'Quebra-cabeça',
  'Platformer': 'Plataforma',
  'Shooter': 'Tiro',
  'Fighting': 'Luta',
  'Horror': 'Terror',
  'Roguelike': 'Roguelike',
  'Metroidvania': 'Metroidvania',
  'Indie': 'Indie',
  'Open World': 'Mundo aberto',
  'Sandbox': 'Sandbox',
  'Survival': 'Sobrevivência',
  'MOBA': 'MOBA',
  'Party': 'Festa',
  'Card Game': 'Cartas',
};

const PLATFORMS = {
  'PC': 'PC',
  'Mac': 'Mac',
  'PlayStation 4': 'PlayStation 4',
  'Xbox One': 'Xbox One',
  'Nintendo Switch': 'Nintendo Switch',
  'Xbox Series X|S': 'Xbox Series X|S',
  'PlayStation 5': 'PlayStation 5',
  'PS5': 'PlayStation 5',
  'PS4': 'PlayStation 4',
  'Switch': 'Nintendo Switch',
};

const TAGS = {
  'singleplayer': 'um jogador',
  'multiplayer': 'multijogador',
  'co-op': 'cooperativo',
  'local multiplayer': 'multijogador local',
  'competitive': 'competitivo',
  'free to play': 'gratuito para jogar',
  'pixel art': 'pixel art',
  'hand-drawn': 'desenhado à mão',
  'retro': 'retrô',
  'anime': 'anime',
  'story rich': 'rico em história',
  'difficult': 'difícil',
  'relaxing': 'relaxante',
  'cozy': 'aconchegante',
  'funny': 'engraçado',
  'atmospheric': 'atmosférico',
  'dark': 'sombrio',
  'fantasy': 'fantasia',
  'sci-fi': 'ficção científica',
  'medieval': 'medieval',
  'cyberpunk': 'cyberpunk',
  'historical': 'histórico',
  'mythology': 'mitologia',
  'western': 'faroeste',
  'space': 'espaço',
  'exploration': 'exploração',
  'crafting': 'fabricação',
  'building': 'construção',
  'farming': 'agricultura',
  'automation': 'automação',
  'city builder': 'construção de cidades',
  'turn-based': 'por turnos',
  'fast-paced': 'ritmo acelerado',
  'deckbuilding': 'construção de baralho',
  'physics': 'física',
  'stealth': 'furtividade',
  'mystery': 'mistério',
  'detective': 'investigação',
  'crime': 'crime',
  'neo-noir': 'neo-noir',
  'survival horror': 'survival horror',
  'battle royale': 'battle royale',
  'social deduction': 'dedução social',
  'football': 'futebol',
  'family friendly': 'para toda a família',
  'female protagonist': 'protagonista feminina',
};

const labelOf = (table) => (id) => (Object.hasOwn(table, id) ? table[id] : String(id ?? ''));

/** "Ação" for "Action"; an unknown genre as it is. */
export const genreLabel = labelOf(GENRES);
/** "PlayStation 5" for "PS5"; an unknown platform as it is. */
export const platformLabel = labelOf(PLATFORMS);
/** "cooperativo" for "co-op"; an unknown tag as it is. */
export const tagLabel = labelOf(TAGS);

const formats = new Map();

function moneyIn(currency) {
  if (!formats.has(currency)) {
    formats.set(currency, new Intl.NumberFormat('pt-BR', { style: 'currency', currency }));
  }
  return formats.get(currency);
}

/** "Grátis" for 0, "R$ 79,90" for 7990 (BRL unless told), "—" when there is no price. */
export function formatPrice(cents, currency = 'BRL') {
  if (!Number.isFinite(cents)) return '—';
  if (cents === 0) return 'Grátis';
  let money;
  try {
    money = moneyIn(currency || 'BRL');
  } catch {  // not an ISO 4217 code: show the amount in reais rather than nothing
    money = moneyIn('BRL');
  }
  return money.format(cents / 100).replace(/\u00a0/g, ' ');  // "R$ 79,90", a plain space
}
