/** "a" or "an" before a word, by its first letter's sound as payrail's names have it: "an OffSystem medium", "a Recurring service". */
export const article = (word: string): 'a' | 'an' => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/** The word with its article, capitalised to start a sentence: "An Active service", "A Suspended service". */
export const withArticle = (word: string): string => `${article(word) === 'an' ? 'An' : 'A'} ${word}`;
