"""The tokenizer gives exactly transformers' XLM-R ids (`XLMRobertaTokenizer`, tokenizers-backed).

Everything is built here, offline: a small XLM-R-shaped sentencepiece model is trained on the
multilingual text below, transformers loads the same directory, and the ids are compared on a few
thousand strings (every script we could think of, whitespace and control-character edge cases,
emoji sequences, NFD text, literal special tokens, random seeded mixes, a 100,000-character text).
"""

from __future__ import annotations

import json
import os
import random
import unicodedata
from pathlib import Path

import pytest

from crest_edge.devtools.spm_train import train_sentencepiece
from crest_edge.errors import ArtifactError
from crest_edge.tokenizer import (
    BOS_ID,
    EOS_ID,
    JSON_FILE,
    PAD_ID,
    SPM_FILE,
    UNK_ID,
    JsonTokenizer,
    XLMRTokenizer,
    load_tokenizer,
)
from crest_edge.tokenizer.charsmap import PrecompiledCharsmap
from crest_edge.tokenizer.graphemes import grapheme_clusters
from crest_edge.tokenizer.graphemes import graphemes as _graphemes


def grapheme_category(char: str) -> str:
    return char.translate(_graphemes().categories)


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

VOCAB = 3000
PADDED = 30_000

# A few hundred lines in many languages and scripts (plus numbers, code, emoji, compatibility forms).
CORPUS = r"""
The quick brown fox jumps over the lazy dog near the riverbank.
Please do not share your password with anyone, even if they claim to be from support.
I can't believe the meeting was moved to 7:30 a.m. on Monday!
She said, "We'll see about that," and walked out of the room.
Visit https://example.com/help?id=42&lang=en for more information.
The price went up by 12.5% in Q3 2023 — analysts were surprised.
Honestly, this is the best pizza I've had in years; 10/10 would recommend.
Don't you dare talk to my sister like that again, or you'll regret it.
My e-mail is john.doe@example.org; call me at +1 (555) 010-9999.
Children under 13 are not allowed to create an account without parental consent.
Le renard brun rapide saute par-dessus le chien paresseux.
Je ne sais pas pourquoi il a refusé l'invitation à dîner hier soir.
Ça coûte 15 € — c'est très cher pour un café, non ?
Les élèves étaient déçus que l'école soit fermée à cause de la neige.
Der schnelle braune Fuchs springt über den faulen Hund.
Können Sie mir bitte sagen, wo der Bahnhof ist? Ich habe mich verlaufen.
Die Straße ist gesperrt, weil ein Lkw umgekippt ist. Größere Verzögerungen!
Ich würde niemals jemanden wegen seiner Herkunft beleidigen.
El rápido zorro marrón salta sobre el perro perezoso.
¿Dónde está la biblioteca? ¡No la encuentro por ninguna parte!
Mañana vamos a la playa si no llueve, ¿vienes con nosotros?
O rápido raposo marrom pula sobre o cão preguiçoso.
Não acredito que você esqueceu o meu aniversário de novo, pô!
A reunião foi adiada para amanhã às três horas da tarde.
La volpe marrone veloce salta sopra il cane pigro.
Perché non mi hai chiamato? Ero preoccupatissimo per te.
De snelle bruine vos springt over de luie hond.
Ik heb geen idee waarom de trein weer vertraging heeft.
Szybki brązowy lis przeskakuje nad leniwym psem.
Zażółć gęślą jaźń — to zdanie zawiera wszystkie polskie znaki.
Příliš žluťoučký kůň úpěl ďábelské ódy.
Hızlı kahverengi tilki tembel köpeğin üzerinden atlar.
Şu anda çok meşgulüm, daha sonra ararım; görüşürüz.
Con cáo nâu nhanh nhẹn nhảy qua con chó lười biếng.
Tôi không hiểu tại sao bạn lại nói như vậy với tôi.
Rubah cokelat yang cepat melompati anjing yang malas.
Saya tidak mau pergi ke sekolah hari ini karena hujan deras.
Mbweha mwepesi wa kahawia anaruka juu ya mbwa mvivu.
Tafadhali usishiriki nenosiri lako na mtu yeyote.
Быстрая коричневая лиса прыгает через ленивую собаку.
Я не понимаю, почему ты так со мной разговариваешь.
Съешь же ещё этих мягких французских булок, да выпей чаю.
Пожалуйста, не публикуйте личные данные других людей.
Швидка коричнева лисиця стрибає через лінивого пса.
Я дуже радий тебе бачити! Як справи вдома?
Бързата кафява лисица прескача мързеливото куче.
Брза смеђа лисица прескаче лењог пса.
Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.
Δεν καταλαβαίνω γιατί μου μιλάς έτσι· σταμάτα αμέσως.
Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.
الثعلب البني السريع يقفز فوق الكلب الكسول.
من فضلك لا تشارك كلمة المرور الخاصة بك مع أي شخص.
لا أفهم لماذا تتحدث معي بهذه الطريقة؟
مرحباً بكم في موقعنا، نتمنى لكم يوماً سعيداً.
روباه قهوه‌ای سریع از روی سگ تنبل می‌پرد.
لطفاً رمز عبور خود را با کسی به اشتراک نگذارید.
تیز بھوری لومڑی سست کتے کے اوپر سے چھلانگ لگاتی ہے۔
השועל החום המהיר קופץ מעל הכלב העצלן.
אני לא מבין למה אתה מדבר אליי ככה.
בבקשה אל תשתף את הסיסמה שלך עם אף אחד.
तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।
कृपया अपना पासवर्ड किसी के साथ साझा न करें।
मुझे समझ नहीं आता कि तुम मुझसे ऐसे बात क्यों कर रहे हो।
आज मौसम बहुत अच्छा है, चलो पार्क चलते हैं।
जलद तपकिरी कोल्हा आळशी कुत्र्यावर उडी मारतो.
দ্রুত বাদামী শিয়াল অলস কুকুরের উপর দিয়ে লাফ দেয়।
অনুগ্রহ করে আপনার পাসওয়ার্ড কারও সাথে শেয়ার করবেন না।
আমি বুঝতে পারছি না তুমি কেন এভাবে কথা বলছ।
விரைவான பழுப்பு நரி சோம்பேறி நாயின் மேல் குதிக்கிறது.
தயவுசெய்து உங்கள் கடவுச்சொல்லை யாருடனும் பகிர வேண்டாம்.
వేగవంతమైన గోధుమ నక్క సోమరి కుక్కపై దూకుతుంది.
ವೇಗದ ಕಂದು ನರಿ ಸೋಮಾರಿ ನಾಯಿಯ ಮೇಲೆ ಹಾರುತ್ತದೆ.
വേഗതയുള്ള തവിട്ട് കുറുക്കൻ മടിയനായ നായയുടെ മുകളിലൂടെ ചാടുന്നു.
ઝડપી ભૂરું શિયાળ આળસુ કૂતરા પર કૂદે છે.
ਤੇਜ਼ ਭੂਰੀ ਲੂੰਬੜੀ ਆਲਸੀ ਕੁੱਤੇ ਉੱਤੇ ਛਾਲ ਮਾਰਦੀ ਹੈ।
වේගවත් දුඹුරු නරියා කම්මැලි බල්ලා උඩින් පනී.
สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ
กรุณาอย่าเปิดเผยรหัสผ่านของคุณกับใคร
ฉันไม่เข้าใจว่าทำไมคุณถึงพูดกับฉันแบบนี้
ວັນນີ້ອາກາດດີຫຼາຍ ພວກເຮົາໄປຫຼິ້ນກັນເທາະ
សូមកុំចែករំលែកពាក្យសម្ងាត់របស់អ្នកជាមួយនរណាម្នាក់ឡើយ។
ខ្ញុំមិនយល់ថាហេតុអ្វីបានជាអ្នកនិយាយបែបនេះ។
ကျေးဇူးပြု၍ သင့်စကားဝှက်ကို မည်သူနှင့်မျှ မမျှဝေပါနှင့်။
မင်္ဂလာပါ၊ နေကောင်းလား။
敏捷的棕色狐狸跳过了懒惰的狗。
请不要与任何人分享您的密码。
我不明白你为什么这样跟我说话！
今天天气很好，我们去公园散步吧。
這是一個繁體中文的句子，請仔細閱讀。
網路上的言論也要負責任，不要隨便罵人。
素早い茶色の狐がのろまな犬を飛び越える。
パスワードを誰とも共有しないでください。
なぜそんな言い方をするのか分かりません。
今日はとても良い天気ですね。カタカナのテストです：コンピューター、インターネット。
ﾊﾝｶｸｶﾀｶﾅもあります。ｱｲｳｴｵ。
빠른 갈색 여우가 게으른 개를 뛰어넘는다.
비밀번호를 다른 사람과 공유하지 마세요.
왜 나한테 그렇게 말하는지 이해가 안 돼요.
오늘 날씨가 정말 좋네요! 공원에 산책하러 갈까요?
ፈጣኑ ቡናማ ቀበሮ በሰነፉ ውሻ ላይ ዘለለ።
እባክዎ የይለፍ ቃልዎን ለማንም አያጋሩ።
სწრაფი ყავისფერი მელა ზარმაც ძაღლს გადაახტა.
გთხოვთ, არავის გაუზიაროთ თქვენი პაროლი.
Արագ շագանակագույն աղվեսը ցատկում է ծույլ շան վրայով։
Խնդրում ենք ոչ մեկի հետ չկիսվել ձեր գաղտնաբառով։
Түргэн хүрэн үнэг залхуу нохойн дээгүүр үсэрлээ.
བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་རང་སྐུ་གཟུགས་བདེ་པོ་ཡིན་པས།
Hello 👋 how are you doing today? 😀😃😄
Family: 👨‍👩‍👧‍👦 and a thumbs up 👍🏽 with skin tone, flags 🇫🇷🇯🇵🇺🇸.
I ❤️ this so much!!! 🔥🔥🔥 #blessed @friend
Naïve café résumé coöperate façade jalapeño piñata.
ÅÄÖ åäö ÆØÅ æøå ß ẞ Œ œ Ĳ ĳ ﬁ ﬂ
Ⅻ ① ② ③ ㈱ ㍻ ℃ ℉ ™ © ® ½ ¾ x² H₂O
def main(): return [x**2 for x in range(10) if x % 2 == 0]
SELECT * FROM users WHERE name = 'admin' -- comment
<div class="note">Hello &amp; welcome</div>
We reviewed the report yesterday and found three serious mistakes in the budget.
If you keep spamming the chat, the moderators will ban your account permanently.
The new phone has a 6.7-inch screen, 256 GB of storage and a 5000 mAh battery.
Grandma's recipe calls for two cups of flour, one egg, and a pinch of salt.
You're such an idiot — nobody wants to hear your opinion anymore.
Thank you so much for your help, I really appreciate it!
The museum is open from 9 to 5, except on public holidays.
Is it safe to mix bleach and ammonia? No! It produces toxic gas.
Our team won the championship after a dramatic penalty shootout.
Click here to claim your FREE prize!!! Limited offer, act now.
Il pleut depuis ce matin, alors nous resterons à la maison.
Tu es vraiment méchant avec tout le monde, arrête ça.
Le gouvernement a annoncé de nouvelles mesures pour l'économie.
J'adore les croissants au beurre et le café noir le dimanche.
Wir haben gestern Abend einen tollen Film im Kino gesehen.
Das ist absolut inakzeptabel und ich werde mich beschweren.
Die Kinder spielen im Garten, während die Eltern kochen.
Bitte schließen Sie die Tür, es zieht furchtbar.
Ayer fuimos al mercado y compramos frutas frescas.
Eres un inútil, no sabes hacer nada bien.
La conferencia sobre inteligencia artificial fue muy interesante.
El niño perdió su mochila en el autobús escolar.
Eu gosto muito de ler livros de ficção científica.
Você viu o jogo ontem à noite? Foi incrível!
Oggi è una bellissima giornata di sole a Roma.
Non sopporto più questa situazione, è ridicola.
Morgen gaan we met de fiets naar het strand.
Dit is echt onbeschoft gedrag, schaam je!
Wczoraj byłem w kinie z przyjaciółmi na nowym filmie.
Nie rozumiem, dlaczego jesteś taki niemiły.
Včera jsme byli na výletě v horách a bylo krásně.
Dün akşam arkadaşlarımla güzel bir yemek yedik.
Bu kadar kaba olmana gerek yok, sakin ol.
Hôm qua chúng tôi đã đi xem phim với gia đình.
Bạn thật là ngu ngốc, đừng nói nữa!
Kemarin kami pergi ke pantai bersama keluarga.
Kamu benar-benar bodoh, jangan bicara lagi.
Jana tulienda sokoni kununua matunda na mboga.
Wewe ni mjinga kabisa, acha kuongea.
Вчера мы ходили в театр на новую постановку.
Ты полный идиот, никто не хочет тебя слушать.
Правительство объявило о новых мерах поддержки экономики.
Дети играют во дворе, а родители готовят ужин.
Вчора ми ходили до театру на нову виставу.
Ти справжній дурень, ніхто тебе не слухає.
Вчера ходихме на кино с приятели.
Јуче смо ишли у позориште на нову представу.
Χθες πήγαμε στο θέατρο για τη νέα παράσταση.
Είσαι εντελώς ηλίθιος, κανείς δεν θέλει να σε ακούσει.
Τα παιδιά παίζουν στην αυλή ενώ οι γονείς μαγειρεύουν.
ذهبنا أمس إلى المسرح لمشاهدة العرض الجديد.
أنت غبي تماماً، لا أحد يريد الاستماع إليك.
أعلنت الحكومة عن إجراءات جديدة لدعم الاقتصاد.
الأطفال يلعبون في الحديقة بينما يطبخ الوالدان.
دیروز به تئاتر رفتیم تا نمایش جدید را ببینیم.
تو واقعاً احمقی، هیچ‌کس نمی‌خواهد حرفت را بشنود.
کل ہم نیا ڈرامہ دیکھنے تھیٹر گئے تھے۔
אתמול הלכנו לתיאטרון לראות את ההצגה החדשה.
אתה ממש טיפש, אף אחד לא רוצה לשמוע אותך.
הממשלה הודיעה על צעדים חדשים לתמיכה בכלכלה.
שָׁלוֹם עֲלֵיכֶם, מַה שְּׁלוֹמְךָ הַיּוֹם?
कल हम नया नाटक देखने थिएटर गए थे।
तुम बिल्कुल बेवकूफ़ हो, कोई तुम्हारी बात नहीं सुनना चाहता।
सरकार ने अर्थव्यवस्था के लिए नए उपायों की घोषणा की।
बच्चे बगीचे में खेल रहे हैं और माता-पिता खाना बना रहे हैं।
क़िला, ख़ुशी, ग़ज़ल, ज़िंदगी, फ़िल्म — नुक़्ता वाले शब्द।
काल आम्ही नवीन नाटक पाहायला गेलो होतो.
हिजो हामी नयाँ नाटक हेर्न थिएटर गएका थियौं।
গতকাল আমরা নতুন নাটক দেখতে থিয়েটারে গিয়েছিলাম।
তুমি একদম বোকা, কেউ তোমার কথা শুনতে চায় না।
நேற்று நாங்கள் புதிய நாடகம் பார்க்க திரையரங்கிற்கு சென்றோம்.
நீ ஒரு முட்டாள், யாரும் உன் பேச்சைக் கேட்க விரும்பவில்லை.
నిన్న మేము కొత్త నాటకం చూడటానికి థియేటర్‌కు వెళ్ళాము.
ನಿನ್ನೆ ನಾವು ಹೊಸ ನಾಟಕ ನೋಡಲು ರಂಗಮಂದಿರಕ್ಕೆ ಹೋಗಿದ್ದೆವು.
ഇന്നലെ ഞങ്ങൾ പുതിയ നാടകം കാണാൻ തിയേറ്ററിൽ പോയി.
ગઈકાલે અમે નવું નાટક જોવા થિયેટર ગયા હતા.
ਕੱਲ੍ਹ ਅਸੀਂ ਨਵਾਂ ਨਾਟਕ ਦੇਖਣ ਥੀਏਟਰ ਗਏ ਸੀ।
ଗତକାଲି ଆମେ ନୂଆ ନାଟକ ଦେଖିବାକୁ ଯାଇଥିଲୁ।
ඊයේ අපි අලුත් නාට්‍යය බලන්න රඟහලට ගියා.
เมื่อวานเราไปดูละครเรื่องใหม่ที่โรงละคร
คุณมันโง่จริงๆ ไม่มีใครอยากฟังคุณหรอก
รัฐบาลประกาศมาตรการใหม่เพื่อสนับสนุนเศรษฐกิจ
ມື້ວານນີ້ພວກເຮົາໄປເບິ່ງລະຄອນເລື່ອງໃໝ່
ម្សិលមិញ យើងបានទៅមើលល្ខោនថ្មីនៅរោងមហោស្រព។
မနေ့က ကျွန်တော်တို့ ပြဇာတ်အသစ်ကြည့်ဖို့ ပြဇာတ်ရုံကို သွားခဲ့တယ်။
昨天我们去剧院看了新话剧。
你真是个白痴，没人想听你说话。
政府宣布了支持经济的新措施。
孩子们在院子里玩，父母在做饭。
昨天我們去劇院看了新話劇，真是太精彩了！
昨日、私たちは新しい劇を見に劇場へ行きました。
お前は本当にバカだな、誰もお前の話なんか聞きたくない。
政府は経済を支援するための新たな措置を発表した。
子どもたちは庭で遊び、両親は料理をしている。
ひらがな、カタカナ、漢字を混ぜて書くのが日本語です。
어제 우리는 새 연극을 보러 극장에 갔다.
너 정말 바보구나, 아무도 네 말 듣고 싶지 않아.
정부는 경제를 지원하기 위한 새로운 조치를 발표했다.
아이들은 마당에서 놀고 부모님은 요리를 하고 있다.
ትናንት አዲሱን ቲያትር ለማየት ሄድን።
አንተ በጣም ደደብ ነህ፣ ማንም ሊሰማህ አይፈልግም።
გუშინ ახალი სპექტაკლის სანახავად თეატრში წავედით.
შენ ნამდვილი სულელი ხარ, არავის სურს შენი მოსმენა.
Երեկ մենք գնացինք թատրոն՝ նոր ներկայացումը դիտելու։
Դու իսկական հիմար ես, ոչ ոք չի ուզում քեզ լսել։
Өчигдөр бид шинэ жүжиг үзэхээр театрт очсон.
Кеше біз жаңа спектакльді көру үшін театрға бардық.
Dün axşam biz yeni tamaşaya baxmaq üçün teatra getdik.
Kecha biz yangi spektaklni ko'rish uchun teatrga bordik.
Tegnap elmentünk a színházba megnézni az új darabot.
Eilen kävimme teatterissa katsomassa uutta näytelmää.
I går gik vi i teatret for at se det nye stykke.
I går gikk vi på teater for å se det nye stykket.
Igår gick vi på teatern för att se den nya pjäsen.
Í gær fórum við í leikhúsið að sjá nýja leikritið.
Ieri am fost la teatru să vedem noua piesă.
Vakar mes ėjome į teatrą pažiūrėti naujo spektaklio.
Vakar mēs gājām uz teātri skatīties jauno izrādi.
Eile käisime teatris uut etendust vaatamas.
Včeraj smo šli v gledališče pogledat novo predstavo.
Jučer smo išli u kazalište pogledati novu predstavu.
Dje shkuam në teatër për të parë shfaqjen e re.
Ddoe aethon ni i'r theatr i weld y ddrama newydd.
Inné chuamar go dtí an amharclann chun an dráma nua a fheiceáil.
Gisteren zijn we naar het theater geweest.
Ahir vam anar al teatre a veure la nova obra.
Atzo antzerkira joan ginen antzezlan berria ikustera.
Onte fomos ao teatro ver a nova obra.
Kahapon pumunta kami sa teatro para manood ng bagong dula.
Semalam kami pergi ke teater untuk menonton drama baru.
Jana tulienda ukumbini kuangalia mchezo mpya.
Lana mun je gidan wasan kwaikwayo don kallon sabon wasa.
Ana a lọ si ile iṣere lati wo ere tuntun naa.
Nnyaafe twagenze mu kifo ky'emizannyo.
Haa kana takkuu hojii haaraa ilaaluuf deemne.
Shalay waxaan aadnay tiyaatarka si aan u daawanno riwaayadda cusub.
Ieri sunt ito al teatro pro vider le nove drama.
Hieraŭ ni iris al la teatro por vidi la novan dramon.
Heri itum est ad theatrum ut novam fabulam videremus.
1234567890 3.14159 2,718 1e-9 0xFF 1_000_000 42% 99.9% ½ ¼
2024-01-15T08:30:00Z, 15/01/2024, 01.15.2024, 十二月二十五日
$100 €50 £30 ¥5000 ₹2000 ₩10000 ₽500 ₺75 ₴200 ₿0.5
:) :( :D ;) <3 xD ^_^ ¯\_(ツ)_/¯ (╯°□°)╯︵ ┻━┻
lol omg wtf brb idk smh tbh imo afaik ftw
hahahahaha hehehe lmaooooo noooooo yessss!!!!! ?!?!
#MondayMotivation #love @user123 https://t.co/abc123
user@mail.com, first.last+tag@sub.example.co.uk
C:\Users\admin\Documents\file.txt /usr/local/bin/python3
{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}
for (int i = 0; i < n; ++i) { sum += a[i]; }
import numpy as np; x = np.zeros((3, 4), dtype=np.float32)
🙂🙃😉😊😇🥰😍🤩😘😗 🐶🐱🐭🐹🐰🦊🐻🐼
👩‍💻 🧑‍🚀 👨‍👨‍👧 🏳️‍🌈 🏴‍☠️ ❤️‍🔥 👋🏻👋🏼👋🏽👋🏾👋🏿
🇩🇪 🇧🇷 🇮🇳 🇨🇳 🇰🇷 🇪🇬 🇮🇱 🇬🇪 🇦🇲 🇹🇭
Ⓐⓑⓒ ⒜⒝⒞ 𝐀𝐁𝐂 𝕬𝕭𝕮 𝒜ℬ𝒞 ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３
ﬀ ﬃ ﬄ ﬅ ﬆ ǅ ǈ ǋ ʼn ſt Ⅷ ⅻ ㏂ ㏘ ㍱ ㎏ ㎞ ㏄
"""
LINES = [line for line in CORPUS.splitlines() if line.strip()]

# Hand-picked edge cases.
EDGE_CASES = [
    "",
    " ",
    "   ",
    "\n",
    "\n\n\n",
    "\t",
    "\t\t x \t",
    " \n \t \r\n ",
    "a  b",
    "a   b    c",
    " leading",
    "trailing ",
    "  both  ",
    "line one\nline two\r\nline three\rfour",
    "tab\tseparated\tvalues",
    "\u00a0nbsp\u00a0",
    "ideographic\u3000space",
    "thin\u2009space",
    "nel\u0085next",
    "\u2028\u2029para",
    "\x01\x02\x03 controls \x7f",
    "\x00nul\x00",
    "zero\u200bwidth",
    "zw\u200cnj",
    "zw\u200dj",
    "\ufeffbom",
    "\u200e\u200f marks \u202a\u202c",
    "soft\u00adhyphen",
    "\ufffd replacement",
    "\U000f0000 private use",
    "<s>",
    "</s>",
    "<pad>",
    "<unk>",
    "<mask>",
    "<s></s>",
    "<<s>>",
    "a<mask>b",
    " <mask> ",
    "<mask><mask>",
    "I <mask> you",
    "x</s>y<s>z",
    "<s >",
    "< s>",
    "<MASK>",
    "＜s＞",
    "＜mask＞",
    "﹤s﹥",
    "<ｍａｓｋ>",
    "``double backquotes'' and ''single''",
    "\"straight\" 'quotes' «guillemets» „low“ ‚single‘",
    "▁",
    "▁▁",
    "a▁",
    "▁a",
    "a▁▁b",
    "▁▁x▁",
    "_▁_",
    "e\u0301",
    "e\u0301\u0323",
    "a\u0308\u0301",
    "ﬁ\u0301",
    "\u0958\u0301",
    "\u0915\u094d\u0958\u0301",
    "\u1100\u1161\u11a8",
    "\u1100\u1161",
    "ｶﾞ",
    "ｱﾞ",
    "\u0600e\u0301",
    "²\u0301",
    "Å",
    "A\u030a",
    "👨‍👩‍👧‍👦",
    "👍🏽👍🏿",
    "🇫🇷🇯🇵🇺",
    "🏳️‍🌈",
    "❤️‍🔥",
    "1️⃣ #️⃣",
    "🧑🏾‍🤝‍🧑🏻",
    "☺︎ ☺️",
    "English العربية English",
    "עברית with English inside",
    "مرحبا 123 world",
    "\u202eevil\u202c",
    "「日本語」、『引用』。！？（括弧）【記号】",
    "，。！？：；“”‘’（）",
    "ｈｅｌｌｏ　ｗｏｒｌｄ",
    "\u0e01\u0e33",
    "\u0e01\u0e4d\u0e32",
    "ไทย\u200bคำ",
    "ក្ក",
    "မြန်မာ",
    "ኢትዮጵያ",
    "ქართული",
    "Հայերեն",
    "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄",
    "Ⅻ ① ㈱ ㍻ ℃",
    "x² H₂O ½",
    "ǅemal",
    "İstanbul ıi",
    "ß ẞ ss",
    "ς σ Σ",
    "\U0001d11e music",
    "\U00020000\U0002a6d6",
    "\U000e0041tag",
    "\ufe0f\ufe0e",
    "\U0001f3fb alone",
    "a" * 300,
    "ab" * 200,
    "5" * 101,
    "ha" * 50 + "!" * 20,
    "." * 64,
    "-" * 40 + "=" * 40,
]


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _variants(rng: random.Random) -> list[str]:
    """Programmatic variety: whitespace games, NFD/NFKD forms, slices, joins and random mixes."""
    out = []
    for line in LINES:
        out.append(_nfd(line))
        if rng.random() < 0.3:
            out.append(unicodedata.normalize("NFKD", line))
    spaces = [" ", "  ", "\t", "\n", " \n ", "\u3000", "\u00a0", "\r\n", "   \t\t\n"]
    for line in rng.sample(LINES, 120):
        words = line.split(" ")
        out.append("".join(w + rng.choice(spaces) for w in words))
        out.append(rng.choice(spaces) + line + rng.choice(spaces))
    for _ in range(500):
        line = rng.choice(LINES)
        start = rng.randrange(len(line))
        out.append(line[start : start + rng.randint(1, 40)])
    for _ in range(200):
        out.append("".join(rng.choice(LINES)[: rng.randint(5, 60)] for _ in range(rng.randint(2, 4))))
    pool = _char_pool(rng)
    for _ in range(1200):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 16))))
    for _ in range(300):
        line = list(rng.choice(LINES))
        for _ in range(rng.randint(1, 4)):
            line.insert(rng.randrange(len(line) + 1), rng.choice(pool))
        out.append("".join(line))
    return out


def _char_pool(rng: random.Random) -> list[str]:
    """Characters that stress normalization, grapheme clustering, whitespace and unknown pieces."""
    ranges = [
        (0x20, 0x7E),
        (0x00, 0x1F),
        (0x7F, 0xA0),
        (0xA0, 0x17F),
        (0x300, 0x36F),
        (0x370, 0x3FF),
        (0x400, 0x4FF),
        (0x591, 0x5F4),
        (0x600, 0x6FF),
        (0x900, 0x97F),
        (0x980, 0x9FF),
        (0xB80, 0xBFF),
        (0xE00, 0xE7F),
        (0x1000, 0x109F),
        (0x1100, 0x11FF),
        (0x1780, 0x17FF),
        (0x1AB0, 0x1AFF),
        (0x1DC0, 0x1DFF),
        (0x2000, 0x206F),
        (0x20D0, 0x20FF),
        (0x2100, 0x218F),
        (0x2460, 0x24FF),
        (0x3000, 0x30FF),
        (0x3130, 0x318F),
        (0x3200, 0x33FF),
        (0x4E00, 0x4E80),
        (0xAC00, 0xAC40),
        (0xD7B0, 0xD7FB),
        (0xF900, 0xF9FF),
        (0xFB00, 0xFB4F),
        (0xFE00, 0xFE0F),
        (0xFE30, 0xFE6F),
        (0xFF00, 0xFFEF),
        (0xFFF0, 0xFFFD),
        (0x1D400, 0x1D4FF),
        (0x1F1E6, 0x1F1FF),
        (0x1F300, 0x1F6FF),
        (0x1F900, 0x1F9FF),
        (0x1F3FB, 0x1F3FF),
        (0xE0020, 0xE007F),
        (0xE0100, 0xE010F),
        (0x10EC0, 0x10EFF),
        (0x11000, 0x1107F),
        (0x110BD, 0x110BD),
        (0x16D40, 0x16D7F),
        (0xF0000, 0xF0010),
        (0x30000, 0x30010),
        (0x50000, 0x50010),
    ]
    pool = [chr(c) for a, b in ranges for c in range(a, b + 1) if not 0xD800 <= c <= 0xDFFF]
    pool = rng.sample(pool, min(len(pool), 3000))
    pool += list(" \t\n\r\u200d\u200c\u3000▁") * 20 + [chr(c) for c in range(0x61, 0x7B)] * 10
    pool += ["<s>", "</s>", "<pad>", "<unk>", "<mask>", "e\u0301", "\U0001f1eb\U0001f1f7"] * 10
    return pool


def build_cases() -> list[str]:
    rng = random.Random(20240917)
    cases = list(LINES) + list(EDGE_CASES) + _variants(rng)
    long_text = " ".join(rng.choice(LINES) for _ in range(3000))
    long_text = "".join(
        c if rng.random() > 0.01 else rng.choice(["\n", "  ", "e\u0301", "🇫🇷", "<mask>"]) for c in long_text
    )
    cases.append(long_text[:100_000])
    cases.append(("".join(LINES) * 8)[:100_000])  # 100,000 characters with very few spaces
    return cases


def training_texts() -> list[str]:
    n = len(LINES)
    mixed = [f"{a} {LINES[(i + 11) % n]}" for i, a in enumerate(LINES)]
    cased = [f"{a.lower()} {LINES[(i + 37) % n].upper()}" for i, a in enumerate(LINES)]
    return LINES + mixed + cased


def write_checkpoint(directory: Path, pad_to: int | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    train_sentencepiece(training_texts(), VOCAB, directory / SPM_FILE, pad_to=pad_to)
    (directory / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}), encoding="utf-8")
    return directory


def hf_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]


def full(tokenizer, text: str) -> list[int]:
    return [BOS_ID, *tokenizer.encode(text), EOS_ID]


def assert_same(tokenizer, texts, expected, what: str) -> None:
    got = tokenizer.encode_batch(texts)
    bad = [(t, e, [BOS_ID, *g, EOS_ID]) for t, e, g in zip(texts, expected, got) if [BOS_ID, *g, EOS_ID] != e]
    detail = "; ".join(f"{t[:80]!r}: transformers {e[:30]} ours {g[:30]}" for t, e, g in bad[:5])
    assert not bad, f"{what}: {len(bad)} of {len(texts)} strings differ from transformers: {detail}"


# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("tok") / "ckpt")


@pytest.fixture(scope="session")
def hf_tokenizer(checkpoint):
    transformers = pytest.importorskip("transformers")
    return transformers.XLMRobertaTokenizer.from_pretrained(str(checkpoint))


@pytest.fixture(scope="session")
def cases() -> list[str]:
    return build_cases()


@pytest.fixture(scope="session")
def expected(hf_tokenizer, cases) -> list[list[int]]:
    return hf_ids(hf_tokenizer, cases)


# ------------------------------------------------------------------------------------------------
def test_ids_match_transformers(checkpoint, cases, expected):
    tokenizer = load_tokenizer(checkpoint)
    assert isinstance(tokenizer, XLMRTokenizer)
    assert len(cases) >= 500 and len(cases) == len(expected)
    assert max(len(c) for c in cases) == 100_000
    scripts = {unicodedata.name(ch, "?").split(" ")[0] for text in LINES for ch in text if ch.isalpha()}
    for script in (
        "LATIN",
        "CYRILLIC",
        "GREEK",
        "ARABIC",
        "HEBREW",
        "DEVANAGARI",
        "BENGALI",
        "TAMIL",
        "THAI",
        "CJK",
        "HIRAGANA",
        "KATAKANA",
        "HANGUL",
        "ETHIOPIC",
        "GEORGIAN",
        "ARMENIAN",
        "KHMER",
        "MYANMAR",
    ):
        assert script in scripts, script
    assert_same(tokenizer, cases, expected, "sentencepiece path")
    # encode() and encode_batch() agree
    for text in cases[:50]:
        assert tokenizer.encode(text) == tokenizer.encode_batch([text])[0]


def test_autotokenizer_agrees(checkpoint, hf_tokenizer, cases, expected):
    transformers = pytest.importorskip("transformers")
    auto = transformers.AutoTokenizer.from_pretrained(str(checkpoint))
    sample = cases[::7]
    assert hf_ids(auto, sample) == expected[::7]


def test_id_layout(checkpoint, hf_tokenizer):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(checkpoint / SPM_FILE))
    tokenizer = load_tokenizer(checkpoint)
    pieces = sp.get_piece_size()
    assert (BOS_ID, PAD_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    assert tokenizer.mask_id == pieces + 1 == hf_tokenizer.mask_token_id == len(hf_tokenizer) - 1
    assert tokenizer.vocab_size == pieces + 2 == len(hf_tokenizer)
    vocab = hf_tokenizer.get_vocab()
    for i in range(3, pieces):  # fairseq: every sentencepiece piece moves up by one
        assert vocab[sp.id_to_piece(i)] == i + 1
    assert tokenizer.encode("<s><pad></s><unk><mask>") == [0, 1, 2, 3, pieces + 1]
    unknown = "\U0001d11e"  # not in the training text: <unk>, and consecutive unknowns fuse
    assert sp.piece_to_id(unknown) == sp.unk_id() == 0
    assert tokenizer.encode(unknown * 3)[-1:] == [UNK_ID]
    assert UNK_ID not in tokenizer.encode(LINES[0])


def test_surrogates_become_replacement_characters(checkpoint, hf_tokenizer):
    tokenizer = load_tokenizer(checkpoint)
    assert tokenizer.encode("a\ud800b\udfff") == tokenizer.encode("a\ufffdb\ufffd")
    assert full(tokenizer, "a\ud800b") == hf_ids(hf_tokenizer, ["a\ufffdb"])[0]


def test_padded_vocabulary(tmp_path_factory, cases):
    transformers = pytest.importorskip("transformers")
    import sentencepiece as spm

    directory = write_checkpoint(tmp_path_factory.mktemp("tok") / "padded", pad_to=PADDED)
    sp = spm.SentencePieceProcessor(model_file=str(directory / SPM_FILE))
    assert sp.get_piece_size() == PADDED
    hf = transformers.XLMRobertaTokenizer.from_pretrained(str(directory))
    tokenizer = load_tokenizer(directory)
    assert len(hf) == tokenizer.vocab_size == PADDED + 2
    assert hf.mask_token_id == tokenizer.mask_id == PADDED + 1
    last = sp.id_to_piece(PADDED - 1)
    assert all(0xF0000 <= ord(c) <= 0x10FFFD for c in last) and sp.get_score(PADDED - 1) < sp.get_score(3)
    sample = cases[::3] + ["\U000f0000\U000f0001 \U000f0002", last, f"x{last}y <mask>"]
    assert_same(tokenizer, sample, hf_ids(hf, sample), "padded vocabulary")


def test_training_is_deterministic(tmp_path):
    from sentencepiece import sentencepiece_model_pb2 as pb

    texts = training_texts()[:200]
    a = train_sentencepiece(texts, 2000, tmp_path / "a.model", pad_to=5000).read_bytes()
    b = train_sentencepiece(iter(texts), 2000, tmp_path / "b.model", pad_to=5000).read_bytes()
    assert a == b
    proto = pb.ModelProto()
    proto.ParseFromString(a)
    assert len(proto.pieces) == 5000
    assert proto.trainer_spec.model_type == pb.TrainerSpec.UNIGRAM
    assert (proto.trainer_spec.unk_id, proto.trainer_spec.bos_id, proto.trainer_spec.eos_id) == (0, 1, 2)
    assert proto.trainer_spec.pad_id == -1
    assert [p.piece for p in proto.pieces[:3]] == ["<unk>", "<s>", "</s>"]
    assert proto.normalizer_spec.name == "nmt_nfkc" and proto.normalizer_spec.add_dummy_prefix
    assert proto.normalizer_spec.remove_extra_whitespaces
    assert all(p.type == pb.ModelProto.SentencePiece.NORMAL for p in proto.pieces[3:])
    assert not list(proto.trainer_spec.input)


def test_tokenizer_json_only(tmp_path_factory, checkpoint, hf_tokenizer, cases, expected):
    transformers = pytest.importorskip("transformers")
    directory = tmp_path_factory.mktemp("tok") / "json_only"
    directory.mkdir()
    hf_tokenizer.backend_tokenizer.save(str(directory / JSON_FILE))
    (directory / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}), encoding="utf-8")
    tokenizer = load_tokenizer(directory)
    assert isinstance(tokenizer, JsonTokenizer)
    assert tokenizer.mask_id == hf_tokenizer.mask_token_id
    assert_same(tokenizer, cases, expected, "tokenizer.json path")
    reloaded = transformers.XLMRobertaTokenizer.from_pretrained(str(directory))
    assert hf_ids(reloaded, cases[::9]) == expected[::9]
    # With both files, the sentencepiece model wins.
    (directory / SPM_FILE).write_bytes((checkpoint / SPM_FILE).read_bytes())
    assert isinstance(load_tokenizer(directory), XLMRTokenizer)


def test_legacy_tokenizer_json(tmp_path, checkpoint, cases, expected):
    """A tokenizer.json written by transformers 4.x (Strip/Replace normalizer, Metaspace only):
    transformers 5 rebuilds its pipeline, and so do we."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import AddedToken

    try:
        from transformers.convert_slow_tokenizer import XLMRobertaConverter

        class Slow:
            vocab_file = str(checkpoint / SPM_FILE)
            add_prefix_space = True
            legacy = True

            @staticmethod
            def convert_tokens_to_ids(token):
                return {"<s>": 0, "</s>": 2}[token]

        legacy = XLMRobertaConverter(Slow()).converted()
    except Exception as exc:  # internal API; nothing to test if it moved
        pytest.skip(f"cannot build a legacy tokenizer.json here: {exc}")
    legacy.add_special_tokens(
        [AddedToken(t, special=True) for t in ("<s>", "<pad>", "</s>", "<unk>")]
        + [AddedToken("<mask>", lstrip=True, special=True)]
    )
    legacy.save(str(tmp_path / JSON_FILE))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}), encoding="utf-8")
    tokenizer = load_tokenizer(tmp_path)
    sample = cases[::5]
    want = hf_ids(transformers.XLMRobertaTokenizer.from_pretrained(str(tmp_path)), sample)
    assert want == expected[::5]
    assert_same(tokenizer, sample, want, "legacy tokenizer.json")


def test_missing_or_corrupt_tokenizer(tmp_path, checkpoint):
    with pytest.raises(ArtifactError):
        load_tokenizer(tmp_path)
    with pytest.raises(ArtifactError):
        load_tokenizer(tmp_path / "does-not-exist")
    good = (checkpoint / SPM_FILE).read_bytes()
    for junk in (b"", b"not a model at all", good[: len(good) // 2], bytes(range(256)) * 8):
        (tmp_path / SPM_FILE).write_bytes(junk)
        with pytest.raises(ArtifactError):
            load_tokenizer(tmp_path)
        with pytest.raises(ArtifactError):
            XLMRTokenizer.from_bytes(junk, "embedded")
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    proto = model_pb2.ModelProto()
    proto.ParseFromString(good)
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.BPE
    with pytest.raises(ArtifactError, match="model type bpe"):
        XLMRTokenizer.from_bytes(proto.SerializeToString(), "a BPE model")
    (tmp_path / SPM_FILE).unlink()
    pytest.importorskip("tokenizers")
    for junk in (b"{", b"[]", b'{"model": {"type": "BPE", "vocab": {}, "merges": []}}'):
        (tmp_path / JSON_FILE).write_bytes(junk)
        with pytest.raises(ArtifactError):
            load_tokenizer(tmp_path)


def test_grapheme_clusters():
    assert grapheme_clusters("e\u0301x") == ["e\u0301", "x"]
    assert grapheme_clusters("🇫🇷🇯🇵🇺") == ["🇫🇷", "🇯🇵", "🇺"]
    assert grapheme_clusters("👨‍👩‍👧‍👦!") == ["👨‍👩‍👧‍👦", "!"]
    assert grapheme_clusters("\r\n\n") == ["\r\n", "\n"]
    assert grapheme_clusters("\u1100\u1161\u11a8각") == ["\u1100\u1161\u11a8", "각"]
    assert grapheme_clusters("\u0915\u094d\u0937") == ["\u0915\u094d\u0937"]  # GB9c conjunct
    assert grapheme_clusters("\u0600\u0661") == ["\u0600\u0661"]  # prepend


def _charsmap_from_rules(tmp_path: Path, rules: str) -> bytes:
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    if not hasattr(spm, "SentencePieceNormalizer"):
        pytest.skip("sentencepiece without SentencePieceNormalizer")
    path = tmp_path / "rules.tsv"
    path.write_text(rules, encoding="utf-8")
    spec = pb.NormalizerSpec()
    spec.ParseFromString(spm.SentencePieceNormalizer(rule_tsv=str(path)).serialized_normalizer_spec())
    return spec.precompiled_charsmap


@pytest.mark.slow
def test_normalizer_matches_tokenizers_precompiled(tmp_path, checkpoint):
    """Probe every code point of planes 0-1 (and the tag / variation-selector block) in the contexts
    where its grapheme-break properties decide what tokenizers' `Precompiled` normalizer outputs."""
    normalizers = pytest.importorskip("tokenizers.normalizers")
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.ParseFromString((checkpoint / SPM_FILE).read_bytes())
    nmt = proto.normalizer_spec.precompiled_charsmap
    bang = _charsmap_from_rules(tmp_path, "21\t58\n")  # "!" -> "X", nothing else
    chars = [chr(c) for c in [*range(0x80, 0x20000), *range(0xE0000, 0xE01F0)] if not 0xD800 <= c <= 0xDFFF]
    chars.remove("\x85")
    special = [c for c in chars if grapheme_category(c) != "o"]  # everything but plain "Other"
    special += random.Random(3).sample(chars, 5000)
    probes = [
        (bang, "!{}", chars),  # Extend / ZWJ / SpacingMark glue to what precedes
        (bang, "{}!\u0301", chars),  # Prepend glues to what follows
        (nmt, "{}\u0340\u0301", chars),  # Control never glues
        (nmt, "\u00a9{}\u200d\u2122\u0301", special),  # GB11: ExtPict Extend* ZWJ x ExtPict
        (nmt, "{}\u200d\u2122\u0301", special),  # Extended_Pictographic
        (nmt, "\u0915{}\u0958\u0301", special),  # InCB=Linker (GB9c)
        (nmt, "\u0915{}\u094d\u0958\u0301", special),  # InCB=Extend
        (nmt, "{}\u094d\u0958\u0301", special),  # InCB=Consonant
    ]
    for blob, shape, subset in probes:
        # U+0085 separates the probes: a control character (a cluster on its own) that neither map
        # changes
        text = "\x85".join(shape.format(c) for c in subset)
        want = normalizers.Precompiled(blob).normalize_str(text).split("\x85")
        got = PrecompiledCharsmap(blob).normalize(text).split("\x85")
        assert len(want) == len(got) == len(subset)
        bad = [(hex(ord(c)), w, g) for c, w, g in zip(subset, want, got) if w != g]
        assert not bad, f"{shape!r}: {len(bad)} code points differ, e.g. {bad[:5]}"
    rng = random.Random(7)
    pool = _char_pool(rng)
    for blob in (nmt, bang):
        texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 10))) for _ in range(3000)]
        reference = normalizers.Precompiled(blob)
        mine = PrecompiledCharsmap(blob)
        bad = [t for t in texts if reference.normalize_str(t) != mine.normalize(t)]
        assert not bad, f"{len(bad)} random strings normalize differently, e.g. {bad[:3]!r}"
