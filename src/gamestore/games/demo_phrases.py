"""The Portuguese sentences invented demo games are described with, chosen to fit each game.

A description opens with a premise of the game's main genre, goes on with how a second genre
plays (or the main one again), adds a sentence for one of its tags when there is one, and ends
saying the game is fictional.
"""

# ruff: noqa: E501  (prose reads better one sentence a line than split mid-sentence)

from __future__ import annotations

PREMISES: dict[str, tuple[str, ...]] = {
    "Action": (
        "Um mercenário aposentado volta à ativa para resgatar a irmã, levada por uma milícia que domina a cidade.",
        "Uma guerreira solitária atravessa uma fortaleza tomada por invasores, sala por sala.",
        "Depois de um assalto que deu errado, uma dupla de ladrões precisa abrir caminho à força para sair da cidade.",
        "Um ciborgue fugitivo enfrenta as tropas da corporação que o construiu.",
    ),
    "Adventure": (
        "Uma cartógrafa embarca num balão para mapear um arquipélago que não aparece em nenhum registro.",
        "Um garoto segue as pistas deixadas pelo avô desaparecido por cavernas, ruínas e vilarejos esquecidos.",
        "Uma exploradora encontra um diário antigo que aponta para uma cidade perdida no meio da floresta.",
        "Dois amigos de infância atravessam um vale encantado em busca da cura para a vila onde cresceram.",
    ),
    "RPG": (
        "Um grupo improvável de heróis se forma numa taverna de fronteira quando um antigo mal volta a despertar.",
        "Uma aprendiz de feiticeira herda um grimório incompleto e precisa recuperar as páginas espalhadas pelo reino.",
        "Num império em guerra civil, um desertor escolhe que lado apoiar e arca com as consequências.",
        "Uma caravana de mercadores cruza o deserto levando uma carga que meio mundo deseja.",
    ),
    "Strategy": (
        "Lidere uma pequena nação e faça dela uma potência pela diplomacia, pelo comércio ou pelas armas.",
        "Comande exércitos em campanhas que atravessam séculos, de cercos medievais a batalhas navais.",
        "Administre uma colônia recém-fundada num continente desconhecido e defenda suas fronteiras.",
        "Dispute territórios com facções rivais, em que cada decisão sobre recursos pesa no fim da guerra.",
    ),
    "Simulation": (
        "Assuma uma padaria de bairro à beira da falência e faça dela o ponto mais movimentado da cidade.",
        "Cuide de uma fazenda no interior, do plantio à colheita, no ritmo das estações.",
        "Planeje o transporte público de uma metrópole e veja milhares de passageiros usarem suas linhas.",
        "Administre um parque de diversões, da montanha-russa ao preço da pipoca.",
    ),
    "Sports": (
        "Leve um time de várzea da terceira divisão até a final do campeonato nacional.",
        "Um circuito de vôlei de praia com partidas rápidas e jogadas de efeito.",
        "Monte sua equipe de basquete de rua e desafie os melhores times de cada quadra da cidade.",
        "Do skate ao surfe, domine manobras em circuitos pelo mundo inteiro.",
    ),
    "Racing": (
        "Corridas em alta velocidade por estradas costeiras, desertos e cidades iluminadas à noite.",
        "Monte e ajuste seu carro na oficina antes de cada etapa de um campeonato de rali.",
        "Pilote naves antigravitacionais em pistas suspensas sobre cidades futuristas.",
        "Um campeonato de kart entre amigos que leva a disputa a sério demais.",
    ),
    "Puzzle": (
        "Cada sala é um enigma de luz e espelhos que pede para olhar o problema por outro ângulo.",
        "Um robozinho desliza por tabuleiros cada vez mais complexos em busca da saída.",
        "Encaixe peças, mude a gravidade e reorganize o cenário para abrir caminho.",
        "Uma relojoaria abandonada guarda mecanismos que só funcionam na ordem certa.",
    ),
    "Platformer": (
        "Uma raposa veloz salta por florestas, templos e nuvens para recuperar as sementes roubadas do seu bosque.",
        "Um pequeno robô escala uma torre sem fim, um pulo preciso de cada vez.",
        "Uma menina com botas de mola atravessa mundos coloridos cheios de armadilhas.",
        "Um cavaleiro de lata percorre castelos repletos de espinhos, plataformas móveis e segredos.",
    ),
    "Shooter": (
        "Um esquadrão de elite é enviado a uma colônia em Marte que parou de responder.",
        "Defenda a última cidade livre de uma invasão de máquinas, com armas improvisadas.",
        "Um atirador de aluguel aceita um último contrato numa metrópole dominada por cartéis.",
        "Equipes rivais disputam pontos de controle em arenas cheias de rotas verticais.",
    ),
    "Fighting": (
        "Lutadores de estilos do mundo inteiro se inscrevem num torneio clandestino.",
        "Mestres de artes marciais, cada um com sua história, disputam o título de campeão.",
        "Heróis e vilões de um universo de quadrinhos se enfrentam em combates rápidos e explosivos.",
        "Um torneio em que cada arena tem armadilhas próprias e muda no meio da luta.",
    ),
    "Horror": (
        "Uma enfermeira acorda sozinha num hospital abandonado, e alguma coisa anda pelos corredores.",
        "Uma família se muda para uma casa de fazenda onde os barulhos da noite não têm explicação.",
        "Uma equipe de pesquisa perde o contato com a superfície numa estação submarina.",
        "Um farol isolado guarda os diários de faroleiros que nunca voltaram para casa.",
    ),
    "Roguelike": (
        "Desça por uma masmorra que muda de forma a cada tentativa.",
        "Um alquimista tenta escapar de uma torre amaldiçoada, com poções diferentes a cada partida.",
        "Cada expedição a uma caverna viva traz salas, inimigos e tesouros diferentes.",
        "Um navio fantasma navega por mares que se refazem a cada viagem.",
    ),
    "Metroidvania": (
        "Uma exploradora desperta nas profundezas de uma cidadela submersa e precisa encontrar a saída.",
        "Um cavaleiro amaldiçoado percorre um castelo vasto e interligado, repleto de passagens secretas.",
        "Uma androide vasculha uma estação abandonada e recupera módulos que abrem novos caminhos.",
        "Um espírito da floresta tenta restaurar um santuário corrompido.",
    ),
    "Sandbox": (
        "Um mundo aberto a tudo: cave, construa, plante e reinvente a paisagem do seu jeito.",
        "Erga cidades flutuantes num céu sem fim, bloco por bloco.",
        "Uma ilha vazia e uma caixa de ferramentas: o resto depende da sua imaginação.",
        "Crie máquinas, veículos e engenhocas com peças que obedecem à física.",
    ),
    "Survival": (
        "Depois de um naufrágio, você acorda numa ilha sem nada além da roupa do corpo.",
        "Num inverno que não termina, cada noite exige lenha, comida e abrigo.",
        "Sobreviventes de uma epidemia tentam reconstruir a vida numa cidade em ruínas.",
        "Uma nave de colonos cai num planeta de fauna hostil e clima imprevisível.",
    ),
    "Party": (
        "Minijogos malucos para disputar com a família e os amigos no mesmo sofá.",
        "Uma gincana de provas absurdas em que a trapaça faz parte das regras.",
        "Um programa de auditório em forma de jogo, com perguntas, desafios e prêmios duvidosos.",
        "Competições de culinária caóticas em cozinhas que não param de mudar.",
    ),
    "Card Game": (
        "Monte seu baralho e enfrente os duelistas de um torneio que atravessa o reino.",
        "Cartas de feitiços, criaturas e armadilhas se combinam em duelos rápidos.",
        "Um jogo de cartas estratégico em que cada partida conta uma pequena história.",
        "Colecione cartas raras e desafie os mestres de cada cidade.",
    ),
}

PLAY: dict[str, str] = {
    "Action": "O combate é rápido e pede reflexos, com golpes que se encadeiam em combos.",
    "Adventure": "Há muito o que explorar, e cada personagem encontrado tem uma história para contar.",
    "RPG": "Os personagens ganham níveis, equipamentos e habilidades, e as escolhas mudam o rumo da história.",
    "Strategy": "Vencer depende de planejamento: cada recurso e cada movimento contam.",
    "Simulation": "Cada detalhe é simulado com cuidado, e você joga no seu próprio ritmo.",
    "Sports": "Os controles são fáceis de aprender e difíceis de dominar.",
    "Racing": "Há provas de velocidade, contra o relógio e de eliminação.",
    "Puzzle": "Enigmas espalhados pelo caminho pedem mais raciocínio do que pressa.",
    "Platformer": "Os saltos precisos e as fases cheias de segredos recompensam quem explora.",
    "Shooter": "Os tiroteios pedem boa mira e bom uso das coberturas.",
    "Fighting": "Cada lutador tem golpes especiais próprios e combos para aprender no treino.",
    "Horror": "A tensão cresce aos poucos, com pouca munição e muitos sustos.",
    "Roguelike": "Cada tentativa é diferente, e o que se aprende fica para a próxima.",
    "Metroidvania": "Novas habilidades abrem caminhos em áreas que antes pareciam sem saída.",
    "Indie": "Feito por uma equipe pequena, tem personalidade em cada detalhe.",
    "Open World": "O mapa fica aberto desde cedo: dá para seguir a história ou simplesmente explorar.",
    "Sandbox": "Não existe jeito certo de jogar: a criatividade define os objetivos.",
    "Survival": "Fome, frio e cansaço precisam ser administrados o tempo todo.",
    "Party": "As partidas são curtas e feitas para rir com os amigos.",
    "Card Game": "As cartas se combinam de formas surpreendentes, e montar o baralho é metade da diversão.",
}

# one sentence for the first of a game's tags that has one
TAG_SENTENCES: dict[str, str] = {
    "free to play": "É gratuito para jogar.",
    "co-op": "Dá para jogar tudo em cooperativo com um amigo.",
    "local multiplayer": "Aceita partidas com amigos na mesma tela.",
    "pixel art": "O visual em pixel art lembra os clássicos dos anos 90.",
    "hand-drawn": "Cenários e personagens são desenhados à mão.",
    "retro": "O estilo é uma homenagem aos jogos das antigas.",
    "relaxing": "Sem pressa e sem pressão: um jogo para relaxar.",
    "cozy": "Um jogo aconchegante, para jogar sem pressa.",
    "difficult": "O desafio é alto, e cada vitória é conquistada com esforço.",
    "story rich": "A história é contada com diálogos bem escritos e personagens marcantes.",
    "competitive": "Há partidas ranqueadas para quem gosta de competir.",
}

FICTIONAL = "Jogo fictício, criado para a demonstração da loja."
